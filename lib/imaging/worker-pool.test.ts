import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { fixtureTasks } from './worker-pool.fixture-worker.ts';
import { collectTransferables, TaskOverrunError, WorkerPool } from './worker-pool.ts';

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

describe('WorkerPool time budget: a task over it loses its worker, never the pool', () => {
  const pool = new WorkerPool<typeof fixtureTasks>({
    entry: new URL('./worker-pool.fixture-worker.ts', import.meta.url),
    size: 2,
    taskTimeoutMs: 1500,
    resourceLimits: { maxOldGenerationSizeMb: 48 },
  });
  after(() => pool.close());

  test('a task that never returns is rejected after taskTimeoutMs, and its worker is replaced', async () => {
    const t0 = performance.now();
    await assert.rejects(pool.run('spin', {}), (err: unknown) => {
      assert.ok(err instanceof TaskOverrunError);
      assert.equal(err.budget, 'time');
      assert.equal(err.message, 'spin ran longer than 1500 ms');
      return true;
    });
    // Not before its budget (an upper bound would only measure how loaded the machine is).
    const waited = performance.now() - t0;
    assert.ok(waited >= 1400, `rejected after ${Math.round(waited)} ms`);
    assert.equal(await pool.run('sleep', { ms: 1, id: 8 }), 8);
  });

  test('tasks beside a stuck one keep running on the other worker meanwhile', async () => {
    let stuckSettled = false;
    const stuck = pool
      .run('spin', {})
      .catch((err: unknown) => err)
      .finally(() => (stuckSettled = true));
    const ids = [];
    for (let id = 0; id < 5; id++) ids.push(await pool.run('sleep', { ms: 5, id }));
    assert.deepEqual(ids, [0, 1, 2, 3, 4]);
    // Served while the stuck task still held its worker: not queued behind it (that would take its whole budget).
    assert.equal(stuckSettled, false, 'the sleeps waited for the stuck task');
    assert.ok((await stuck) instanceof TaskOverrunError);
  });
});

describe('WorkerPool memory budget', () => {
  // A time budget far beyond the heap's growth, so a slow (loaded) machine still meets the memory limit first.
  const roomy = new WorkerPool<typeof fixtureTasks>({
    entry: new URL('./worker-pool.fixture-worker.ts', import.meta.url),
    size: 1,
    taskTimeoutMs: 120_000,
    resourceLimits: { maxOldGenerationSizeMb: 48 },
  });
  after(() => roomy.close());

  test('a task that grows the heap past resourceLimits is rejected as a memory overrun; the next task runs', async () => {
    await assert.rejects(roomy.run('hoard', {}), (err: unknown) => {
      assert.ok(err instanceof TaskOverrunError);
      assert.equal(err.budget, 'memory');
      assert.match(err.message, /^hoard reached the worker's memory limit \(48 MB of heap\)$/);
      return true;
    });
    assert.equal(await roomy.run('sleep', { ms: 1, id: 9 }), 9);
  });
});

test('collectTransferables finds whole buffers only, once each', () => {
  const a = new Float32Array(4);
  const shared = new Uint8Array(16);
  const view = shared.subarray(4, 8);
  const found = collectTransferables({ a, again: [a], nested: { b: a.buffer }, view, n: 1, s: 'x' });
  assert.deepEqual(found, [a.buffer]);
});
