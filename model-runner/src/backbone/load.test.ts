import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/graph.ts';
import {
  BackboneError,
  extractFcWeights,
  loadBackbone,
  parseInputSize,
  sha256Hex,
  validateBackbone,
} from './load.ts';
import { tinyBackbone } from './fixtures.ts';

function gemmOnly(): Uint8Array {
  const g = new GraphBuilder('gemm-only');
  const x = g.input('x', 'float32', ['N', 512]);
  g.op(
    'Gemm',
    [x, g.initializer('w', 'float32', [1000, 512], new Float32Array(512000))],
    { transB: 1 },
    { output: 'y' },
  );
  g.output('y', 'float32', ['N', 1000]);
  return g.toBytes();
}

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BackboneError, String(err));
    return err.message;
  }
  assert.fail('expected a BackboneError');
}

describe('backbone validation', () => {
  test('a valid export with features and logits is accepted, hashed by its bytes, and not marked untrained', () => {
    const { bytes } = tinyBackbone();
    const b = validateBackbone(bytes, 'test.onnx', { height: 2000, width: 1000 });
    assert.equal(b.hash, sha256Hex(bytes));
    assert.equal(b.untrained, false);
    assert.equal(b.description, 'test.onnx');
    assert.deepEqual([b.inputName, b.featuresName, b.logitsName], ['input', 'features', 'logits']);
    assert.deepEqual([b.inputHeight, b.inputWidth], [null, null]);
  });

  test('a Gemm-only model is refused, naming the input shape it should have', () => {
    const message = problemsOf(() => validateBackbone(gemmOnly(), 'gemm.onnx'));
    assert.match(message, /^gemm\.onnx cannot serve as the backbone:/);
    assert.match(message, /input x must be N×3×H×W, not \[N, 512\]/);
  });

  test('bytes that are not ONNX are refused as such', () => {
    assert.match(
      problemsOf(() => validateBackbone(new TextEncoder().encode('not a model at all'), 'x.onnx')),
      /x\.onnx is not an ONNX model/,
    );
  });

  test('a one-channel input is refused, naming the channel count', () => {
    const message = problemsOf(() => validateBackbone(tinyBackbone({ channels: 1 }).bytes, 'gray.onnx'));
    assert.match(message, /must have 3 channels \(dimension 1\), not 1/);
  });

  test('a fixed input size other than PLATINA_INPUT_SIZE is refused with the remedy', () => {
    const bytes = tinyBackbone({ inputShape: [1, 3, 224, 224] }).bytes;
    const message = problemsOf(() => validateBackbone(bytes, 'fixed.onnx', { height: 2000, width: 1000 }));
    assert.match(
      message,
      /fixed at \[1, 3, 224, 224\] but PLATINA_INPUT_SIZE is 2000x1000; export with dynamic height and width/,
    );
    assert.equal(validateBackbone(bytes, 'fixed.onnx', { height: 224, width: 224 }).inputHeight, 224);
  });

  test('a model without a 512-d output or fc layer is refused, listing its outputs', () => {
    const g = new GraphBuilder('no-features');
    const x = g.input('input', 'float32', ['N', 3, 'H', 'W']);
    g.op('GlobalAveragePool', [x], {}, { output: 'pooled' });
    g.output('pooled', 'float32', ['N', 3, 1, 1]);
    assert.match(
      problemsOf(() => validateBackbone(g.toBytes(), 'pool.onnx')),
      /no \[N, 512\] features output.*outputs are pooled \[N, 3, 1, 1\]/,
    );
  });

  test('a logits-only export gets the fc layer input as its features output, which onnxruntime serves', async () => {
    const b = validateBackbone(tinyBackbone({ featuresOutput: false }).bytes, 'logits-only.onnx');
    assert.equal(b.logitsName, 'logits');
    const session = await ort.InferenceSession.create(b.bytes);
    const out = await session.run({
      input: new ort.Tensor('float32', new Float32Array(2 * 3 * 32 * 32).fill(0.5), [2, 3, 32, 32]),
    });
    assert.deepEqual(out[b.featuresName].dims, [2, 512]);
    await session.release();
  });
});

describe('fc weights for the head', () => {
  test('are read from a Gemm (transB=1) as [1000, 512] with bias', () => {
    const { bytes, fcWeight, fcBias } = tinyBackbone({ fc: 'gemm' });
    const fc = extractFcWeights(bytes)!;
    assert.deepEqual(fc.weight, fcWeight);
    assert.deepEqual(fc.bias, fcBias);
  });

  test('are read from MatMul + Add and transposed to [1000, 512]', () => {
    const { bytes, fcWeight, fcBias } = tinyBackbone({ fc: 'matmul' });
    const fc = extractFcWeights(bytes)!;
    assert.deepEqual(fc.weight, fcWeight);
    assert.deepEqual(fc.bias, fcBias);
  });

  test('are absent when the model has no logits', () => {
    const g = new GraphBuilder();
    g.op('Identity', [g.input('x', 'float32', ['N', 512])], {}, { output: 'features' });
    g.output('features', 'float32', ['N', 512]);
    assert.equal(extractFcWeights(g.toBytes()), undefined);
  });
});

describe('loadBackbone', () => {
  test('reads and validates PLATINA_BACKBONE', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'platina-backbone-'));
    const file = path.join(dir, 'resnet34.onnx');
    const { bytes } = tinyBackbone();
    await writeFile(file, bytes);
    const b = await loadBackbone({ PLATINA_BACKBONE: file, PLATINA_INPUT_SIZE: '448x224' });
    assert.equal(b.hash, sha256Hex(bytes));
    await writeFile(file, gemmOnly());
    await assert.rejects(
      loadBackbone({ PLATINA_BACKBONE: file }),
      /resnet34\.onnx cannot serve as the backbone/,
    );
    await assert.rejects(
      loadBackbone({ PLATINA_BACKBONE: path.join(dir, 'missing.onnx') }),
      /missing\.onnx cannot be read/,
    );
  });

  test('PLATINA_INPUT_SIZE is HEIGHTxWIDTH, default the paper 2000x1000', () => {
    assert.deepEqual(parseInputSize(undefined), { height: 2000, width: 1000 });
    assert.deepEqual(parseInputSize('448x224'), { height: 448, width: 224 });
    assert.throws(() => parseInputSize('224'), /PLATINA_INPUT_SIZE="224" is invalid: expected HEIGHTxWIDTH/);
  });
});
