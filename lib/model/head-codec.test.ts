import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANOMALY_CODES } from '../anomaly-types.ts';
import type { HeadParams } from './head.ts';
import { decodeHead, decodeHeads, encodeHead } from './head-codec.ts';

/** Layers of the given widths with distinct, non-round values (every byte of the encoding matters). */
function layers(dims: number[], seed: number): HeadParams {
  let s = seed;
  const next = () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
  return dims.slice(1).map((outputs, i) => {
    const inputs = dims[i]!;
    return {
      inputs,
      outputs,
      weight: Float32Array.from({ length: inputs * outputs }, next),
      bias: Float32Array.from({ length: outputs }, next),
    };
  });
}

const head = layers([4, 3, 2], 1);
const types = layers([4, 5, ANOMALY_CODES.length], 2);
head[0].bias.set([0.5, -1, 2]);

test('a version without a type head round-trips, and its bytes are the original PLH1 layout', () => {
  const bytes = encodeHead(head);
  assert.equal(bytes.readUInt32LE(0), 0x31484c50);
  assert.equal(bytes.length, 4 + 4 + (8 + 12 * 4 + 3 * 4) + (8 + 6 * 4 + 2 * 4));
  assert.deepEqual(decodeHeads(bytes), { head, anomalyHead: null });
  assert.deepEqual(decodeHead(bytes), head);
});

test('the type head follows with its codes; the binary head reads the same either way', () => {
  const bytes = encodeHead(head, { codes: ANOMALY_CODES, params: types });
  const decoded = decodeHeads(bytes);
  assert.deepEqual(decoded.head, head);
  assert.deepEqual(decoded.anomalyHead, { codes: [...ANOMALY_CODES], params: types });
  assert.deepEqual(decodeHead(bytes), head);
});

test('damaged bytes are refused with what is wrong', () => {
  const bytes = encodeHead(head, { codes: ANOMALY_CODES, params: types });
  assert.throws(() => decodeHeads(Buffer.from('nope, not a head')), /bad magic/);
  assert.throws(() => decodeHeads(bytes.subarray(0, bytes.length - 3)), /truncated/);
  assert.throws(() => decodeHeads(Buffer.concat([encodeHead(head), Buffer.alloc(5)])), /5 bytes left over/);
  assert.throws(
    () => decodeHeads(encodeHead(head, { codes: ANOMALY_CODES.slice(1), params: types })),
    /the anomaly head has 11 outputs for 10 type codes/,
  );
});
