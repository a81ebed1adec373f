import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../test/harness.ts';
import { buildImages } from './votes/factories.ts';

// Faults a running server must ride out without a restart. Slow ones (kill -9 under voting experts, a
// PostgreSQL restart under load) are in `npm run bench`.

let app: TestApp;
let expert: TestUser;
const IDLE_MS = 30;

before(async () => {
  // The runner is off (as with PLATINA_RUNNER=off), so nothing keeps the pooled connection busy, and the
  // pool drops it after IDLE_MS instead of pg's 10 s.
  app = await startTestApp({}, { timeouts: { idleTimeoutMillis: IDLE_MS } });
  expert = await app.user('expert');
  await buildImages(app.server.services.db, { bundle: 'idle', count: 3 });
});
after(() => app?.close());

const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a server idle past every pool timeout', () => {
  test('answers its main routes as before, prepared statements included', async () => {
    const round = async () => {
      const next = await app.request('GET', '/api/queue/next', { token: expert.token });
      assert.equal(next.status, 200, next.text);
      const vote = await app.request('PUT', `/api/images/${next.body.id}/votes/me`, {
        token: expert.token,
        json: { verdict: 'normal', anomalies: [], modelHintShown: false },
      });
      assert.equal(vote.status, 200, vote.text);
      for (const p of ['/api/images?bundle=idle', '/api/bundles', '/api/queue/stats']) {
        const r = await app.request('GET', p, { token: expert.token });
        assert.equal(r.status, 200, `${p}: ${r.text}`);
      }
    };
    await round();
    await idle(IDLE_MS * 5);
    await round();
    await idle(IDLE_MS * 5);
    await round();
  });
});
