import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestApp, type Reply, type TestApp } from '../../../test/harness.ts';
import { SignInThrottle } from './rate-limit.ts';

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
});

describe('sign-in throttling: slow down, never lock out (docs/security.md)', () => {
  let app: TestApp;
  // The throttle's clock stands still unless a test moves it: how long a request takes on a loaded machine never
  // turns a 429 into a 401 (a slow fifth verification would otherwise outlast the one-second delay).
  let clock = Date.now();
  before(async () => {
    // Behind a proxy, so each test can sign in from addresses of its own (X-Forwarded-For).
    app = await startTestApp({ PLATINA_TRUST_PROXY: '1' });
    (app.server.services as { signIns: SignInThrottle }).signIns = new SignInThrottle(() => clock);
  });
  after(() => app.close());

  let next = 0;
  const address = () => `198.51.100.${++next}`;
  const signIn = (json: Record<string, unknown>, from: string) =>
    app.request('POST', '/api/auth/login', { json, headers: { 'x-forwarded-for': from } });
  const assert429 = (r: Reply) => {
    assert.equal(r.status, 429, r.text);
    assert.match(
      r.body.detail,
      /^too many failed sign-ins for this account or from this address; try again in \d+ s$/,
    );
    const after = Number(r.headers.get('retry-after'));
    assert.ok(
      Number.isInteger(after) && after >= 1 && after <= 60,
      `Retry-After: ${r.headers.get('retry-after')}`,
    );
    return after;
  };

  test('60 wrong passwords at once: each is counted before its verification, only the free 5 are verified', async () => {
    await app.user('expert', 'burst');
    const from = address();
    const replies = await Promise.all(
      Array.from({ length: 60 }, () => signIn({ username: 'burst', password: 'wrong-password' }, from)),
    );
    const statuses = replies.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 429).length, 55);
    for (const r of replies.filter((r) => r.status === 429)) assert429(r);
  });

  test("an attacker hammering an account never slows the owner's known device; others wait seconds, not 15 minutes", async () => {
    const owner = await app.user('expert', 'victim');
    const first = await signIn({ username: 'victim', password: owner.password }, address());
    assert.equal(first.status, 200);
    const device = first.body.deviceToken as string;
    assert.match(device, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);

    const attacker = address();
    const attack = [];
    for (let i = 0; i < 12; i++)
      attack.push(await signIn({ username: 'victim', password: `guess-${i}` }, attacker));
    assert.deepEqual(
      attack.map((r) => r.status),
      [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429],
    );
    attack.filter((r) => r.status === 429).forEach(assert429);

    // The owner's browser still holds its device token: its own budget, untouched by the attack.
    const known = await signIn(
      { username: 'victim', password: owner.password, deviceToken: device },
      address(),
    );
    assert.equal(known.status, 200, known.text);
    // A new device (or a forged token) shares the account's slowed budget...
    const forged = `${device.slice(0, 23)}${'A'.repeat(43)}`;
    for (const deviceToken of [null, forged]) {
      const r = await signIn({ username: 'victim', password: owner.password, deviceToken }, address());
      const wait = assert429(r);
      assert.ok(wait <= 2, `a slowdown of seconds after 5 failures, not a lockout: ${wait} s`);
    }
    // ...and gets in once the delay has passed: the right password is never refused for long.
    clock += 2100;
    const later = await signIn({ username: 'victim', password: owner.password }, address());
    assert.equal(later.status, 200, later.text);
  });

  test('wrong passwords through a device token slow only that device', async () => {
    const owner = await app.user('expert', 'clumsy');
    const device = (await signIn({ username: 'clumsy', password: owner.password }, address())).body
      .deviceToken;
    const from = address();
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await signIn({ username: 'clumsy', password: 'typo', deviceToken: device }, from)).status,
        401,
      );
    assert429(await signIn({ username: 'clumsy', password: owner.password, deviceToken: device }, from));
    const elsewhere = await signIn({ username: 'clumsy', password: owner.password }, address());
    assert.equal(elsewhere.status, 200, 'the account and other devices are not slowed by one device');
  });

  test('one address spraying usernames is slowed after 30 failures; known devices behind it and other addresses are not', async () => {
    const colleague = await app.user('expert', 'colleague');
    const device = (await signIn({ username: 'colleague', password: colleague.password }, address())).body
      .deviceToken;
    const office = address();
    for (let i = 0; i < 30; i++)
      assert.equal(
        (await signIn({ username: `nobody${i}`, password: 'spray-password' }, office)).status,
        401,
      );
    assert429(await signIn({ username: 'nobody-else', password: 'spray-password' }, office));
    const known = await signIn(
      { username: 'colleague', password: colleague.password, deviceToken: device },
      office,
    );
    assert.equal(known.status, 200, 'a colleague behind the same address whose browser signed in before');
    const other = await signIn({ username: 'nobody-else', password: 'spray-password' }, address());
    assert.equal(other.status, 401, 'another address is not slowed');
  });

  test('a client cannot pick its address: only the entry the proxy appended counts', async () => {
    const office = address();
    for (let i = 0; i < 31; i++)
      await signIn({ username: `spoof${i}`, password: 'spray-password' }, `${address()}, ${office}`);
    assert429(await signIn({ username: 'spoof-last', password: 'spray-password' }, office));
  });
});
