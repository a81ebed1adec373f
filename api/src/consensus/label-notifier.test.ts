import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { labelNotifier } from './label-notifier.ts';

const logger = pino({ level: 'silent' });

test('a burst of label changes tells the runners once, after the interval', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let woken = 0;
  let notified = 0;
  const n = labelNotifier({
    wakeInProcess: () => woken++,
    notifyRunners: async () => void notified++,
    logger,
    intervalMs: 250,
  });
  for (let i = 0; i < 100; i++) n.changed();
  assert.equal(woken, 0, 'nothing is sent inside the burst');
  t.mock.timers.tick(250);
  assert.equal(woken, 1);
  assert.equal(notified, 1);
  n.changed();
  t.mock.timers.tick(250);
  assert.equal(woken, 2, 'a change after the burst is told too');
});

test('a failing NOTIFY is logged, not thrown, and close() cancels a pending one', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let woken = 0;
  const n = labelNotifier({
    wakeInProcess: () => woken++,
    notifyRunners: () => Promise.reject(new Error('connection lost')),
    logger,
  });
  n.changed();
  t.mock.timers.tick(250);
  await new Promise((r) => setImmediate(r));
  assert.equal(woken, 1);
  n.changed();
  n.close();
  t.mock.timers.tick(1000);
  assert.equal(woken, 1);
});
