import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { GraphBuilder } from './graph.ts';
import { WorkerSession } from './worker-session.ts';

function scaleModel(): Uint8Array {
  const g = new GraphBuilder('scale');
  const x = g.input('x', 'float32', ['N', 2]);
  g.op('Mul', [x, g.float32s([2, -3], [2])], {}, { output: 'y' });
  g.output('y', 'float32', ['N', 2]);
  return g.toBytes();
}

describe('WorkerSession', () => {
  test('runs a model in a worker thread with the same names and results as in-thread', async () => {
    const session = await WorkerSession.create(scaleModel());
    try {
      assert.deepEqual(session.inputNames, ['x']);
      assert.deepEqual(session.outputNames, ['y']);
      const out = await session.run({
        x: new ort.Tensor('float32', Float32Array.from([1, 1, 0.5, 2]), [2, 2]),
      });
      assert.deepEqual(out.y.dims, [2, 2]);
      assert.deepEqual(Array.from(out.y.data as Float32Array), [2, -3, 1, -6]);
    } finally {
      await session.release();
    }
  });

  test('an invalid model is refused with the runtime error', async () => {
    await assert.rejects(
      WorkerSession.create(new TextEncoder().encode('not onnx')),
      /protobuf|parse|Load model/i,
    );
  });
});
