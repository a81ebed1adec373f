import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionCache } from './session-cache.ts';

const alice = { id: '1', username: 'alice', role: 'expert' as const, sessionId: '10' };
const bob = { id: '2', username: 'bob', role: 'lead' as const, sessionId: '20' };
const farFuture = new Date(Date.UTC(2100, 0, 1));

function clockedCache(ttlMs = 1000) {
  let now = 1_000_000;
  return { cache: new SessionCache({ ttlMs, now: () => now }), advance: (ms: number) => (now += ms) };
}

test('a remembered session is served until its TTL passes, then looked up again', () => {
  const { cache, advance } = clockedCache();
  cache.remember('hash-a', alice, farFuture);
  assert.deepEqual(cache.get('hash-a'), alice);
  advance(999);
  assert.deepEqual(cache.get('hash-a'), alice);
  advance(1);
  assert.equal(cache.get('hash-a'), undefined);
});

test('never past the session’s own expiry', () => {
  const { cache, advance } = clockedCache();
  cache.remember('hash-a', alice, new Date(1_000_000 + 200));
  advance(200);
  assert.equal(cache.get('hash-a'), undefined);
});

test('ending a session or changing a user forgets them at once, and only them', () => {
  const { cache } = clockedCache();
  cache.remember('hash-a', alice, farFuture);
  cache.remember('hash-a2', { ...alice, sessionId: '11' }, farFuture);
  cache.remember('hash-b', bob, farFuture);
  cache.forgetSession('10');
  assert.equal(cache.get('hash-a'), undefined);
  assert.ok(cache.get('hash-a2'), 'the other session of the same user stays');
  cache.forgetUser('1');
  assert.equal(cache.get('hash-a2'), undefined);
  assert.deepEqual(cache.get('hash-b'), bob);
});
