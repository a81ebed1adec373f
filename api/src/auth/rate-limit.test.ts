import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Throttle } from './rate-limit.ts';

const policy = { free: 3, windowMs: 15 * 60_000, baseDelayMs: 1000, maxDelayMs: 8000 };

describe('Throttle: slow down, never lock out', () => {
  test('free attempts, then delays that double from the last attempt up to the maximum', () => {
    const t = new Throttle(policy);
    let now = 1_000_000;
    for (let i = 0; i < 3; i++) {
      assert.equal(t.waitMs('k', now), 0);
      t.take('k', now);
    }
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const wait = t.waitMs('k', now);
      waits.push(wait);
      now += wait;
      assert.equal(t.waitMs('k', now), 0, 'after the wait, an attempt is allowed');
      t.take('k', now);
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 8000, 8000], 'capped at maxDelayMs');
  });

  test('a refunded attempt (right password) does not count; failures expire with the window', () => {
    const t = new Throttle(policy);
    const now = 5_000_000;
    for (let i = 0; i < 3; i++) t.refund(t.take('k', now));
    assert.equal(t.waitMs('k', now), 0);
    for (let i = 0; i < 3; i++) t.take('k', now);
    assert.equal(t.waitMs('k', now), 1000);
    assert.equal(t.waitMs('k', now + policy.windowMs), 0, 'all three failures left the window');
  });

  test('keys are independent; reset forgets one', () => {
    const t = new Throttle(policy);
    for (let i = 0; i < 3; i++) t.take('a', 0);
    assert.equal(t.waitMs('a', 0), 1000);
    assert.equal(t.waitMs('b', 0), 0);
    t.reset('a');
    assert.equal(t.waitMs('a', 0), 0);
  });
});
