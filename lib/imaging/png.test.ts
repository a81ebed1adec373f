import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32, inflateSync } from 'node:zlib';
import { encodePng } from './png.ts';

/** Minimal PNG reader for the encoder's output: checks signature and CRCs, undoes the Up filter. */
function readPng(png: Uint8Array) {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: { type: string; body: Uint8Array }[] = [];
  for (let at = 8; at < png.length;) {
    const len = dv.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const body = png.subarray(at + 8, at + 8 + len);
    assert.equal(dv.getUint32(at + 8 + len), crc32(png.subarray(at + 4, at + 8 + len)), `CRC of ${type}`);
    chunks.push({ type, body });
    at += 12 + len;
  }
  assert.deepEqual(
    chunks.map((c) => c.type),
    ['IHDR', 'IDAT', 'IEND'],
  );
  const ih = new DataView(chunks[0].body.buffer, chunks[0].body.byteOffset);
  const width = ih.getUint32(0);
  const height = ih.getUint32(4);
  const colourType = chunks[0].body[9];
  const channels = colourType === 0 ? 1 : 3;
  const raw = inflateSync(chunks[1].body);
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    assert.ok(filter === 0 || filter === 2, `filter ${filter}`);
    for (let i = 0; i < stride; i++) {
      const up = y > 0 && filter === 2 ? pixels[(y - 1) * stride + i] : 0;
      pixels[y * stride + i] = (raw[y * (stride + 1) + 1 + i] + up) & 0xff;
    }
  }
  return { width, height, bitDepth: chunks[0].body[8], colourType, pixels };
}

describe('encodePng', () => {
  test('an 8-bit grayscale image round-trips exactly', () => {
    const plane = Uint8Array.from({ length: 5 * 3 }, (_, i) => (i * 37) % 256);
    const png = readPng(encodePng({ width: 5, height: 3, planes: [plane] }));
    assert.deepEqual([png.width, png.height, png.bitDepth, png.colourType], [5, 3, 8, 0]);
    assert.deepEqual(png.pixels, plane);
  });

  test('three planes become interleaved 8-bit RGB', () => {
    const r = Uint8Array.of(1, 2, 3, 4);
    const g = Uint8Array.of(10, 20, 30, 40);
    const b = Uint8Array.of(255, 0, 128, 7);
    const png = readPng(encodePng({ width: 2, height: 2, planes: [r, g, b] }));
    assert.equal(png.colourType, 2);
    assert.deepEqual([...png.pixels], [1, 10, 255, 2, 20, 0, 3, 30, 128, 4, 40, 7]);
  });

  test('wrong plane counts or sizes are refused', () => {
    const p = new Uint8Array(4);
    assert.throws(() => encodePng({ width: 2, height: 2, planes: [p, p] }), RangeError);
    assert.throws(() => encodePng({ width: 3, height: 2, planes: [p] }), RangeError);
  });
});
