import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../../../test/harness.ts';

describe('authentication', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('login returns an opaque token and the user', async () => {
    const r = await app.request('POST', '/api/auth/login', {
      json: { username: 'admin', password: ADMIN_PASSWORD },
    });
    assert.equal(r.status, 200);
    assert.match(r.body.token, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(Object.keys(r.body.user).sort(), ['id', 'role', 'username']);
    assert.equal(r.body.user.role, 'admin');
  });

  test('the token is stored only as a hash', async () => {
    const r = await app.request('POST', '/api/auth/login', {
      json: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const rows = await app.server.services.db.selectFrom('sessions').select('token_hash').execute();
    assert.ok(rows.length > 0);
    assert.ok(rows.every((s) => s.token_hash !== r.body.token && /^[0-9a-f]{64}$/.test(s.token_hash)));
  });

  test('wrong password and unknown user get the same 401', async () => {
    const a = await app.request('POST', '/api/auth/login', {
      json: { username: 'admin', password: 'nope-nope' },
    });
    const b = await app.request('POST', '/api/auth/login', {
      json: { username: 'ghost', password: 'nope-nope' },
    });
    for (const r of [a, b]) {
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.body.detail, 'wrong username or password');
    }
  });

  test('logout revokes the token at once', async () => {
    const token = await app.login('admin', ADMIN_PASSWORD);
    // Used just before, so the API remembers the session (auth/session-cache.ts): logout must forget it.
    assert.equal((await app.request('GET', '/api/users/me', { token })).status, 200);
    assert.equal((await app.request('POST', '/api/auth/logout', { token })).status, 204);
    const r = await app.request('GET', '/api/users/me', { token });
    assert.equal(r.status, 401);
    assert.equal(r.body.detail, 'the token is invalid, expired or revoked; sign in again');
  });

  test('an expired token is refused', async () => {
    const token = await app.login('admin', ADMIN_PASSWORD);
    const db = app.server.services.db;
    const newest = await db
      .selectFrom('sessions')
      .select('id')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    await db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', newest.id)
      .execute();
    assert.equal((await app.request('GET', '/api/users/me', { token })).status, 401);
  });

  test('requests without a token get 401 with a bearer challenge', async () => {
    const r = await app.request('GET', '/api/users/me');
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.match(r.body.detail, /Authorization header/);
  });

  test('malformed JSON is 400 and a missing field is 422 naming it', async () => {
    const bad = await app.request('POST', '/api/auth/login', {
      body: '{"username":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /not valid JSON/);
    const missing = await app.request('POST', '/api/auth/login', { json: { username: 'admin' } });
    assert.equal(missing.status, 422);
    assert.match(missing.body.detail, /^password: /);
  });

  test('repeated failures for one username are rate-limited with 429', async () => {
    const u = await app.user('expert', 'limited');
    let last;
    for (let i = 0; i < 11; i++) {
      last = await app.request('POST', '/api/auth/login', {
        json: { username: 'limited', password: 'wrong-password' },
      });
    }
    assert.equal(last!.status, 429);
    assert.match(last!.body.detail, /too many failed sign-ins/);
    // Even the right password waits until the window passes.
    const right = await app.request('POST', '/api/auth/login', {
      json: { username: 'limited', password: u.password },
    });
    assert.equal(right.status, 429);
  });
});
