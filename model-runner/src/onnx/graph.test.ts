import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import {
  GraphBuilder,
  decodeModel,
  describeValueInfo,
  float,
  modelMetadata,
  tensorToFloat32,
  toNumber,
} from './graph.ts';

/** y = relu(x · Wᵀ + b) computed by hand, for comparison with the runtime. */
function gemmRelu(
  x: Float32Array,
  n: number,
  w: Float32Array,
  b: Float32Array,
  outF: number,
  inF: number,
): Float32Array {
  const y = new Float32Array(n * outF);
  for (let i = 0; i < n; i++)
    for (let o = 0; o < outF; o++) {
      let s = b[o];
      for (let k = 0; k < inF; k++) s += x[i * inF + k] * w[o * inF + k];
      y[i * outF + o] = Math.max(0, s);
    }
  return y;
}

function tinyModel(): { bytes: Uint8Array; w: Float32Array; b: Float32Array } {
  const w = Float32Array.from({ length: 12 }, (_, i) => (i % 5) - 2);
  const b = Float32Array.from([0.5, -1, 0.25]);
  const g = new GraphBuilder('tiny');
  const x = g.input('x', 'float32', ['N', 4]);
  const wName = g.initializer('w', 'float32', [3, 4], w);
  const bName = g.initializer('b', 'float32', [3], b);
  const h = g.op('Gemm', [x, wName, bName], { transB: 1, alpha: float(1) });
  g.op('Relu', [h], {}, { output: 'y' });
  g.output('y', 'float32', ['N', 3]);
  return { bytes: g.toBytes({ metadata: { purpose: 'test' } }), w, b };
}

describe('GraphBuilder', () => {
  test('a Gemm+Relu graph runs in onnxruntime-node and matches the hand-computed result', async () => {
    const { bytes, w, b } = tinyModel();
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual(session.inputNames, ['x']);
    assert.deepEqual(session.outputNames, ['y']);
    const x = Float32Array.from({ length: 8 }, (_, i) => i / 3 - 1);
    const out = await session.run({ x: new ort.Tensor('float32', x, [2, 4]) });
    assert.deepEqual(out.y.dims, [2, 3]);
    const expected = gemmRelu(x, 2, w, b, 3, 4);
    const got = out.y.data as Float32Array;
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-5, `y[${i}]`);
    await session.release();
  });

  test('serialised models decode back with shapes, initializers and metadata intact', () => {
    const { bytes, w } = tinyModel();
    const model = decodeModel(bytes);
    const graph = model.graph!;
    assert.equal(toNumber(model.opsetImport[0].version as number), 17);
    assert.deepEqual(modelMetadata(model), { purpose: 'test' });
    assert.deepEqual(describeValueInfo(graph.input![0]), {
      name: 'x',
      elemType: 'float32',
      shape: ['N', 4],
    });
    const init = graph.initializer!.find((t) => t.name === 'w')!;
    assert.deepEqual(tensorToFloat32(init), w);
  });

  test('reusing a value name is refused', () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [1]);
    assert.throws(() => g.initializer('x', 'float32', [1], [0]), /already used/);
  });

  test('a non-integer plain number attribute is refused (floats must be wrapped)', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1]);
    assert.throws(() => g.op('LeakyRelu', [x], { alpha: 0.1 }), /wrap floats with float\(\)/);
  });

  test('int64 constants feed shape inputs (Reshape)', async () => {
    const g = new GraphBuilder('reshape');
    const x = g.input('x', 'float32', [2, 3]);
    g.op('Reshape', [x, g.int64s([3, 2])], {}, { output: 'y' });
    g.output('y', 'float32', [3, 2]);
    const session = await ort.InferenceSession.create(g.toBytes());
    const out = await session.run({
      x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]),
    });
    assert.deepEqual(out.y.dims, [3, 2]);
    await session.release();
  });
});
