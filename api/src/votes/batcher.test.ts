import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batcher } from './batcher.ts';

/** A batch handler the test completes by hand: records each batch, settles it when told. */
function manualRun() {
  const batches: { items: number[]; finish: (fail?: Error) => void }[] = [];
  const run = (items: number[]) =>
    new Promise<PromiseSettledResult<string>[]>((resolve, reject) => {
      batches.push({
        items,
        finish: (fail) =>
          fail
            ? reject(fail)
            : resolve(
                items.map((i) =>
                  i < 0
                    ? { status: 'rejected', reason: new Error(`bad ${i}`) }
                    : { status: 'fulfilled', value: `done ${i}` },
                ),
              ),
      });
    });
  return { batches, run };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('an item submitted to an idle batcher goes out alone, at once', async () => {
  const m = manualRun();
  const b = batcher({ run: m.run, maxBatch: 10 });
  const result = b.submit(1);
  assert.deepEqual(
    m.batches.map((x) => x.items),
    [[1]],
  );
  m.batches[0]!.finish();
  assert.equal(await result, 'done 1');
});

test('items arriving while a batch runs go out together when it finishes, one batch at a time', async () => {
  const m = manualRun();
  const b = batcher({ run: m.run, maxBatch: 10 });
  const results = [1, 2, 3, 4].map((i) => b.submit(i));
  assert.deepEqual(
    m.batches.map((x) => x.items),
    [[1]],
    'the later ones wait',
  );
  m.batches[0]!.finish();
  await tick();
  assert.deepEqual(
    m.batches.map((x) => x.items),
    [[1], [2, 3, 4]],
  );
  m.batches[1]!.finish();
  assert.deepEqual(await Promise.all(results), ['done 1', 'done 2', 'done 3', 'done 4']);
});

test('a batch holds at most maxBatch items, oldest first', async () => {
  const m = manualRun();
  const b = batcher({ run: m.run, maxBatch: 2 });
  const results = [1, 2, 3, 4, 5].map((i) => b.submit(i));
  for (let k = 0; k < 3; k++) {
    m.batches[k]!.finish();
    await tick();
  }
  assert.deepEqual(
    m.batches.map((x) => x.items),
    [[1], [2, 3], [4, 5]],
  );
  assert.equal((await Promise.all(results)).length, 5);
});

test('each item gets its own outcome; a failed batch fails its own items only', async () => {
  const m = manualRun();
  const b = batcher({ run: m.run, maxBatch: 10 });
  const first = b.submit(1);
  const bad = b.submit(-2);
  const good = b.submit(3);
  m.batches[0]!.finish(new Error('connection lost'));
  await assert.rejects(first, /connection lost/);
  await tick();
  m.batches[1]!.finish();
  await assert.rejects(bad, /bad -2/);
  assert.equal(await good, 'done 3');
});
