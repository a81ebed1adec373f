import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import { buildImages, buildSignedInUsers, type FactoryUser } from '../../../test/factories/votes.ts';

/**
 * `images.fresh` (migration 0800) is what the queue opens new images from; a trigger on the consensus
 * table keeps it equal to "no votes and no lead decision" through every writer.
 */
let app: TestApp;
let experts: FactoryUser[];
let lead: FactoryUser;

before(async () => {
  app = await startTestApp();
  experts = await buildSignedInUsers(app.server.services.db, 'expert', 2, 'fresh-expert');
  [lead] = await buildSignedInUsers(app.server.services.db, 'lead', 1, 'fresh-lead');
});
after(() => app?.close());

const isFresh = async (id: string) =>
  (
    await app.server.services.db
      .selectFrom('images')
      .select('fresh')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).fresh;

describe('fresh images', () => {
  test('an uploaded image is fresh until its first vote', async () => {
    const [img] = await buildImages(app.server.services.db, { bundle: 'fresh-a', count: 1 });
    assert.equal(await isFresh(img!), true);
    const r = await app.request('PUT', `/api/images/${img}/votes/me`, {
      token: experts[0]!.token,
      json: { verdict: 'normal', anomalies: [] },
    });
    assert.equal(r.status, 200);
    assert.equal(await isFresh(img!), false);
  });

  test('a lead decision on an unvoted image ends it; withdrawing the decision makes it fresh again', async () => {
    const [img] = await buildImages(app.server.services.db, { bundle: 'fresh-b', count: 1 });
    const resolved = await app.request('PUT', `/api/images/${img}/resolution`, {
      token: lead.token,
      json: { verdict: 'abnormal', anomalies: [], reason: 'clear coating gap' },
    });
    assert.equal(resolved.status, 200);
    assert.equal(await isFresh(img!), false);
    const withdrawn = await app.request('DELETE', `/api/images/${img}/resolution`, { token: lead.token });
    assert.equal(withdrawn.status, 200);
    assert.equal(await isFresh(img!), true);
  });

  test('the queue opens a bundle at its first fresh image, past the labeled ones before it', async () => {
    const imgs = await buildImages(app.server.services.db, { bundle: 'fresh-c', count: 3 });
    // The lead decides the first two; a new expert's next image in this bundle is the third.
    for (const id of imgs.slice(0, 2)) {
      await app.request('PUT', `/api/images/${id}/resolution`, {
        token: lead.token,
        json: { verdict: 'normal', anomalies: [], reason: 'reference plate' },
      });
    }
    const [newcomer] = await buildSignedInUsers(app.server.services.db, 'expert', 1, 'fresh-newcomer');
    const offered: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await app.request('GET', '/api/queue/next', { token: newcomer!.token });
      if (r.status !== 200) break;
      offered.push(r.body.id);
      await app.request('PUT', `/api/images/${r.body.id}/votes/me`, {
        token: newcomer!.token,
        json: { verdict: 'normal', anomalies: [] },
      });
    }
    assert.ok(offered.includes(imgs[2]!), 'the fresh image is offered');
    assert.ok(!offered.includes(imgs[0]!) && !offered.includes(imgs[1]!), 'decided images are not');
  });
});
