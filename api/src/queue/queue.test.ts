import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import {
  buildActiveModel,
  buildImages,
  buildSignedInUsers,
  type FactoryUser,
} from '../../../test/factories/votes.ts';

let app: TestApp;

before(async () => {
  app = await startTestApp();
});
after(() => app?.close());

const db = () => app.server.services.db;
const next = (u: FactoryUser) => app.request('GET', '/api/queue/next', { token: u.token });
const vote = (u: FactoryUser, id: string, verdict = 'normal') =>
  app.request('PUT', `/api/images/${id}/votes/me`, { token: u.token, json: { verdict, anomalies: [] } });

/** Fresh experts per test; images left open by earlier tests may still come first, so tests filter. */
async function experts(n: number) {
  return buildSignedInUsers(db(), 'expert', n);
}

describe('GET /api/queue/next', () => {
  test('started images come before fresh ones, and no image is leased beyond the votes it still needs', async () => {
    const [fresh] = await buildImages(db(), { bundle: 'fresh', count: 1 });
    const [img] = await buildImages(db(), { bundle: 'started', count: 1 });
    const [v1, v2, e1, e2] = await experts(4);
    await vote(v1, img, 'normal');
    await vote(v2, img, 'abnormal'); // 1–1: one more vote needed
    const r1 = await next(e1);
    assert.equal(r1.body.id, img, 'the started image comes first');
    assert.equal(r1.body.status, 'pending');
    const r2 = await next(e2);
    assert.equal(r2.body.id, fresh, 'its one remaining vote is leased to e1');

    // When e1 walks away, the lease expires and the image opens again.
    await sql`update queue_leases set expires_at = now() - interval '1 second' where user_id = ${e1.id}`.execute(
      db(),
    );
    const [e3] = await experts(1);
    assert.equal((await next(e3)).body.id, img);
  });

  test('hands fresh images spread across bundles, then oldest first, and 204 when none is left', async () => {
    const a = await buildImages(db(), { bundle: 'spread-A', count: 3 });
    const b = await buildImages(db(), { bundle: 'spread-B', count: 2 });
    const [e] = await experts(1);
    const seen: string[] = [];
    for (;;) {
      const r = await next(e);
      if (r.status === 204) break;
      assert.equal(r.status, 200);
      seen.push(r.body.id);
      assert.equal((await vote(e, r.body.id)).status, 200);
    }
    // Other tests' images may come first; within these bundles the order alternates.
    const mine = seen.filter((id) => [...a, ...b].includes(id));
    assert.deepEqual(mine, [a[0], b[0], a[1], b[1], a[2]]);
  });

  test('a reload returns the same leased image; two experts asking at once get different images', async () => {
    await sql`delete from queue_leases`.execute(db());
    const [e1, e2] = await experts(2);
    const first = await next(e1);
    assert.equal((await next(e1)).body.id, first.body.id);
    const [r1, r2] = await Promise.all([next(e2), next((await experts(1))[0])]);
    assert.equal(r1.status, 200);
    assert.equal(r2.status, 200);
    assert.equal(new Set([first.body.id, r1.body.id, r2.body.id]).size, 3);
    assert.equal(first.body.prediction, null);
    assert.equal(first.body.leaseExpiresInSeconds, 600);
  });

  test('with an active model, open images come by its priority, highest first; hints only when enabled', async () => {
    await sql`delete from queue_leases`.execute(db());
    const imgs = await buildImages(db(), { bundle: 'priority', count: 3 });
    await buildActiveModel(db(), [
      { imageId: imgs[0], pAbnormal: 0.1, priority: 0.2 },
      { imageId: imgs[1], pAbnormal: 0.5, priority: 0.9 },
      { imageId: imgs[2], pAbnormal: 0.7, priority: 0.5 },
    ]);
    const [e1, e2] = await experts(2);
    const r = await next(e1);
    assert.equal(r.body.id, imgs[1]);
    assert.equal(r.body.prediction, null, 'blind to the model by default');
    await app.request('PUT', '/api/settings', { token: app.admin.token, json: { showModelHint: true } });
    const r2 = await next(e2);
    assert.equal(r2.body.id, imgs[2]);
    assert.deepEqual(r2.body.prediction, { modelVersion: r2.body.prediction.modelVersion, pAbnormal: 0.7 });
    await app.request('PUT', '/api/settings', { token: app.admin.token, json: { showModelHint: false } });
  });

  test('skips the images the client says it already holds (prefetch), and refuses bad ids', async () => {
    await sql`delete from queue_leases`.execute(db());
    const [e] = await experts(1);
    const first = await next(e);
    const second = await app.request('GET', `/api/queue/next?exclude=${first.body.id}`, { token: e.token });
    assert.equal(second.status, 200);
    assert.notEqual(second.body.id, first.body.id);
    const bad = await app.request('GET', '/api/queue/next?exclude=1,abc', { token: e.token });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /must be an id/);
  });

  test('is for experts and leads only', async () => {
    const r = await app.request('GET', '/api/queue/next', { token: app.admin.token });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /this needs the role expert or lead; you are admin/);
  });
});

describe('GET /api/queue/stats', () => {
  test("counts the expert's images voted today and the open images they have not voted on", async () => {
    const [e] = await experts(1);
    const before = (await app.request('GET', '/api/queue/stats', { token: e.token })).body;
    assert.equal(before.votedToday, 0);
    const ids = await buildImages(db(), { bundle: 'stats', count: 3 });
    const after1 = (await app.request('GET', '/api/queue/stats', { token: e.token })).body;
    assert.equal(after1.remaining, before.remaining + 3);

    await vote(e, ids[0]!, 'normal');
    await vote(e, ids[0]!, 'abnormal'); // a re-vote on the same image counts once
    await vote(e, ids[1]!, 'normal');
    const r = await app.request('GET', '/api/queue/stats', { token: e.token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { votedToday: 2, remaining: after1.remaining - 2 });
  });
});
