import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { fixtureTasks } from './worker-pool.fixture-worker.ts';
import { collectTransferables, WorkerPool } from './worker-pool.ts';

describe('WorkerPool', () => {
  const pool = new WorkerPool<typeof fixtureTasks>({
    entry: new URL('./worker-pool.fixture-worker.ts', import.meta.url),
    size: 2,
  });
  after(() => pool.close());

  test('runs a task in a worker and returns its result', async () => {
    const r = await pool.run('double', { values: Float64Array.of(1, 2.5) });
    assert.deepEqual([...r.values], [2, 5]);
  });

  test('a thrown error arrives with its name, message and data fields', async () => {
    await assert.rejects(pool.run('fail', { message: 'no such thing' }), (err: Error & { code?: string }) => {
      assert.equal(err.name, 'RangeError');
      assert.equal(err.message, 'no such thing');
      assert.equal(err.code, 'E_FIXTURE');
      return true;
    });
  });

  test('more tasks than workers wait their turn and all complete', async () => {
    const ids = await Promise.all([1, 2, 3, 4, 5].map((id) => pool.run('sleep', { ms: 20, id })));
    assert.deepEqual(ids, [1, 2, 3, 4, 5]);
  });

  test('a crashed worker rejects its task and is replaced for the next one', async () => {
    await assert.rejects(pool.run('crash', { code: 3 }), /exited with code 3/);
    assert.equal(await pool.run('sleep', { ms: 1, id: 7 }), 7);
  });
});

test('collectTransferables finds whole buffers only, once each', () => {
  const a = new Float32Array(4);
  const shared = new Uint8Array(16);
  const view = shared.subarray(4, 8);
  const found = collectTransferables({ a, again: [a], nested: { b: a.buffer }, view, n: 1, s: 'x' });
  assert.deepEqual(found, [a.buffer]);
});
