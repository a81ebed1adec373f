import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startTestApp, type TestApp, type TestUser } from '../../test/harness.ts';
import { testDbKind } from '../../test/databases.ts';
import { buildImages, buildSignedInUsers } from '../../test/factories/votes.ts';

// Faults a running server must ride out without a restart. Those that need processes of their own (kill -9 of
// the API or the runner, a PostgreSQL server restarted under load) are in process-faults.test.ts; their
// figures in `npm run bench -- faults`.

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

describe('PostgreSQL dropping every connection of the API under voting experts', () => {
  test(
    'the API recovers by itself, and every acknowledged vote is stored',
    { skip: testDbKind() !== 'postgres' && 'the embedded database runs in the API process' },
    async (t) => {
      const db = app.server.services.db;
      const images = await buildImages(db, { bundle: 'drop', count: 30 });
      const experts = await buildSignedInUsers(db, 'expert', 12);
      // What a server restart does to the API: every backend of its database terminated at once.
      const admin = new pg.Client({ connectionString: app.server.database.url });
      await admin.connect();
      const dropAll = () =>
        admin.query(
          `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
           where datname = current_database() and pid <> pg_backend_pid()`,
        );
      const acknowledged: { user: string; image: string }[] = [];
      const failed: number[] = [];
      let dropped = 0;
      try {
        await Promise.all([
          ...experts.map(async (e) => {
            for (const image of images) {
              const r = await app.request('PUT', `/api/images/${image}/votes/me`, {
                token: e.token,
                json: { verdict: 'normal', anomalies: [] },
              });
              if (r.status === 200) acknowledged.push({ user: e.id, image });
              else failed.push(r.status);
            }
          }),
          (async () => {
            for (let i = 0; i < 3; i++) {
              await idle(40);
              dropped += (await dropAll()).rows[0].n;
            }
          })(),
        ]);
        assert.ok(dropped > 0, 'connections were dropped under load');
        // Recovered: every expert's next requests are answered normally.
        for (const e of experts) {
          const r = await app.request('GET', '/api/queue/stats', { token: e.token });
          assert.equal(r.status, 200, r.text);
        }
        const stored = new Set(
          (await db.selectFrom('votes').select(['user_id', 'image_id']).execute()).map(
            (v) => `${v.user_id}:${v.image_id}`,
          ),
        );
        const missing = acknowledged.filter((a) => !stored.has(`${a.user}:${a.image}`));
        t.diagnostic(
          `connections dropped ${dropped}, votes acknowledged ${acknowledged.length}, failed ${failed.length}, missing ${missing.length}`,
        );
        assert.deepEqual(missing, [], 'acknowledged votes missing');
        assert.ok(
          failed.every((s) => s === 500 || s === 503),
          `a request caught by the drop fails plainly: ${failed.join(' ')}`,
        );
        assert.ok(
          acknowledged.length > experts.length * images.length * 0.8,
          `${acknowledged.length} acknowledged`,
        );
      } finally {
        await admin.end();
      }
    },
  );
});
