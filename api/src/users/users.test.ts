import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';

describe('users', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('first start created the admin, whose password hash is argon2id', async () => {
    const rows = await app.server.services.db
      .selectFrom('users')
      .select(['username', 'password_hash'])
      .execute();
    assert.deepEqual(
      rows.map((r) => r.username),
      ['admin'],
    );
    assert.match(rows[0]!.password_hash, /^\$argon2id\$/);
  });

  test('an admin creates an expert who can sign in and see themselves', async () => {
    const r = await app.request('POST', '/api/users', {
      token: app.admin.token,
      json: { username: 'erin', password: 'erin-password', role: 'expert' },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.username, 'erin');
    assert.equal(r.body.role, 'expert');
    const token = await app.login('erin', 'erin-password');
    const me = await app.request('GET', '/api/users/me', { token });
    assert.deepEqual(me.body, { id: r.body.id, username: 'erin', role: 'expert' });
  });

  test('a duplicate username, in any case, is 409', async () => {
    await app.user('expert', 'dora');
    const r = await app.request('POST', '/api/users', {
      token: app.admin.token,
      json: { username: 'DORA', password: 'another-password', role: 'lead' },
    });
    assert.equal(r.status, 409);
    assert.equal(r.body.detail, 'the username "DORA" is already taken');
  });

  test('invalid roles, short passwords and unknown fields are 422 naming the field', async () => {
    const cases: [object, RegExp][] = [
      [{ username: 'x1', password: 'long-enough', role: 'boss' }, /^role: /],
      [{ username: 'x2', password: 'short', role: 'expert' }, /^password: must be at least 8 characters/],
      [{ username: 'x 3', password: 'long-enough', role: 'expert' }, /^username: use letters/],
      [{ username: 'x4', password: 'long-enough', role: 'expert', admin: true }, /admin/],
    ];
    for (const [json, detail] of cases) {
      const r = await app.request('POST', '/api/users', { token: app.admin.token, json });
      assert.equal(r.status, 422, JSON.stringify(json));
      assert.match(r.body.detail, detail);
    }
    const count = await app.server.services.db
      .selectFrom('users')
      .select('username')
      .where('username', 'like', 'x%')
      .execute();
    assert.equal(count.length, 0);
  });

  test('disabling a user ends their sessions, at once, and blocks sign-in', async () => {
    const u = await app.user('expert', 'gone');
    // Used just before, so the API remembers the session (auth/session-cache.ts): it must forget it.
    assert.equal((await app.request('GET', '/api/users/me', { token: u.token })).status, 200);
    const r = await app.request('PATCH', `/api/users/${u.id}`, {
      token: app.admin.token,
      json: { disabled: true },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.disabled, true);
    assert.equal((await app.request('GET', '/api/users/me', { token: u.token })).status, 401);
    const login = await app.request('POST', '/api/auth/login', {
      json: { username: 'gone', password: u.password },
    });
    assert.equal(login.status, 401);
  });

  test('a new role applies to the user’s next request', async () => {
    const u = await app.user('expert', 'promoted');
    assert.equal((await app.request('GET', '/api/review/queue', { token: u.token })).status, 403);
    const r = await app.request('PATCH', `/api/users/${u.id}`, {
      token: app.admin.token,
      json: { role: 'lead' },
    });
    assert.equal(r.status, 200);
    assert.equal((await app.request('GET', '/api/users/me', { token: u.token })).body.role, 'lead');
    assert.equal((await app.request('GET', '/api/review/queue', { token: u.token })).status, 200);
  });

  test('an admin cannot disable themselves', async () => {
    const r = await app.request('PATCH', `/api/users/${app.admin.id}`, {
      token: app.admin.token,
      json: { disabled: true },
    });
    assert.equal(r.status, 409);
    assert.match(r.body.detail, /cannot disable or demote yourself/);
  });

  test('an unknown user id is 404 and a malformed one 422', async () => {
    const r = await app.request('PATCH', '/api/users/999999', {
      token: app.admin.token,
      json: { role: 'lead' },
    });
    assert.equal(r.status, 404);
    assert.equal(r.body.detail, 'no user with id 999999');
    const bad = await app.request('PATCH', '/api/users/abc', {
      token: app.admin.token,
      json: { role: 'lead' },
    });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /^id: must be an id/);
  });

  test('health says which database answers', async () => {
    const r = await app.request('GET', '/api/health');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'ok');
    assert.equal(r.body.database, process.env.PLATINA_TEST_DB === 'postgres' ? 'postgres' : 'embedded');
    assert.match(r.headers.get('content-security-policy')!, /default-src 'self'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
  });
});
