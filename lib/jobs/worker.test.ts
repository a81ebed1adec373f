import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withTimingDefaults, type JobRunnerOptions } from './worker.ts';

const base = { db: null, handlers: {}, logger: null } as unknown as JobRunnerOptions;

test('an option passed as undefined takes its default (no setTimeout(undefined) hot loop)', () => {
  const o = withTimingDefaults({
    ...base,
    pollMs: undefined,
    heartbeatMs: undefined,
    staleSeconds: undefined,
  });
  assert.equal(o.pollMs, 2000);
  assert.equal(o.heartbeatMs, 5000);
  assert.equal(o.staleSeconds, 60);
});

test('a given timing is kept, including the other options', () => {
  const o = withTimingDefaults({ ...base, pollMs: 50, workerId: 'w1' });
  assert.equal(o.pollMs, 50);
  assert.equal(o.workerId, 'w1');
  assert.equal(o.heartbeatMs, 5000);
});
