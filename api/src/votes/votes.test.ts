import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { buildImages } from '../../../test/factories/votes.ts';

let app: TestApp;
let experts: TestUser[];
let lead: TestUser;

before(async () => {
  app = await startTestApp();
  experts = [await app.user('expert'), await app.user('expert'), await app.user('expert')];
  lead = await app.user('lead');
});
after(() => app?.close());

const vote = (user: TestUser, imageId: string, json: unknown) =>
  app.request('PUT', `/api/images/${imageId}/votes/me`, { token: user.token, json });

describe('a full labeling round: three experts and a lead', () => {
  test('experts take images from the queue, vote blind, and the lead settles the tie', async () => {
    const [img1, img2] = await buildImages(app.server.services.db, { bundle: 'round', count: 2 });
    const [e1, e2, e3] = experts;

    // Expert 1 gets the first image and votes; the vote is recorded with the model-hint flag.
    const next = await app.request('GET', '/api/queue/next', { token: e1.token });
    assert.equal(next.status, 200);
    assert.equal(next.body.id, img1);
    assert.equal(next.body.prediction, null);
    const v1 = await vote(e1, img1, {
      verdict: 'abnormal',
      anomalies: ['bubbles', 'scratches'],
      modelHintShown: false,
    });
    assert.equal(v1.status, 200);
    assert.deepEqual(
      { ...v1.body, createdAt: undefined },
      {
        imageId: img1,
        verdict: 'abnormal',
        anomalies: ['scratches', 'bubbles'],
        comment: null,
        modelHintShown: false,
        anomalyHint: null,
        createdAt: undefined,
      },
    );

    // Blind: expert 2 cannot see votes or consensus of an image they have not voted on.
    for (const path of [`/api/images/${img1}/votes`, `/api/images/${img1}/consensus`]) {
      const r = await app.request('GET', path, { token: e2.token });
      assert.equal(r.status, 403);
      assert.match(r.body.detail, /votes are blind: vote on this image first/);
    }
    const pending = await app.request('GET', `/api/images/${img1}/consensus`, { token: lead.token });
    assert.deepEqual(pending.body, {
      status: 'pending',
      verdict: null,
      anomalies: [],
      method: null,
      counts: { normal: 0, abnormal: 1 },
      votesNeeded: 2,
      dawidSkene: { pAbnormal: pending.body.dawidSkene.pAbnormal },
    });
    assert.ok(pending.body.dawidSkene.pAbnormal > 0.5, 'one abnormal vote: Dawid–Skene leans abnormal');

    await vote(e2, img1, { verdict: 'abnormal', anomalies: ['bubbles'] });
    await vote(e3, img1, { verdict: 'normal', anomalies: [], comment: 'minor smudge only' });
    const decided = await app.request('GET', `/api/images/${img1}/consensus`, { token: e3.token });
    assert.equal(decided.status, 200);
    assert.equal(decided.body.status, 'resolved');
    assert.equal(decided.body.verdict, 'abnormal');
    assert.equal(decided.body.method, 'majority');
    assert.deepEqual(decided.body.anomalies, ['bubbles']);
    assert.deepEqual(decided.body.counts, { normal: 1, abnormal: 2 });
    assert.equal(
      decided.body.dawidSkene,
      undefined,
      'experts see the vote result, not the reliability model',
    );

    // After voting, the expert sees every current vote.
    const votes = await app.request('GET', `/api/images/${img1}/votes`, { token: e3.token });
    assert.equal(votes.status, 200);
    assert.deepEqual(
      votes.body.map((v: any) => [v.user.username, v.verdict]),
      [
        [e1.username, 'abnormal'],
        [e2.username, 'abnormal'],
        [e3.username, 'normal'],
      ],
    );

    // Expert 2 changes their mind: the current vote is replaced, the history keeps both.
    await vote(e2, img1, { verdict: 'normal', anomalies: [] });
    const after = await app.request('GET', `/api/images/${img1}/consensus`, { token: lead.token });
    assert.equal(after.body.verdict, 'normal');
    const history = await app.request('GET', `/api/images/${img1}/votes/history`, { token: lead.token });
    assert.deepEqual(
      history.body.map((v: any) => [v.user.username, v.verdict]),
      [
        [e1.username, 'abnormal'],
        [e2.username, 'abnormal'],
        [e3.username, 'normal'],
        [e2.username, 'normal'],
      ],
    );
    const expertHistory = await app.request('GET', `/api/images/${img1}/votes/history`, { token: e1.token });
    assert.equal(expertHistory.status, 403);

    // The lead resolves image 2 before anyone votes; later votes do not change it until withdrawn.
    const noReason = await app.request('PUT', `/api/images/${img2}/resolution`, {
      token: lead.token,
      json: { verdict: 'abnormal', anomalies: [] },
    });
    assert.equal(noReason.status, 422);
    assert.match(noReason.body.detail, /^reason: is required/);
    const resolved = await app.request('PUT', `/api/images/${img2}/resolution`, {
      token: lead.token,
      json: { verdict: 'abnormal', anomalies: ['edge_cuts'], reason: 'edge cut visible at the top' },
    });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.method, 'lead');
    assert.deepEqual(resolved.body.resolvedBy, { id: lead.id, username: lead.username });
    assert.equal(resolved.body.reason, 'edge cut visible at the top');
    for (const e of experts) await vote(e, img2, { verdict: 'normal', anomalies: [] });
    const stands = await app.request('GET', `/api/images/${img2}/consensus`, { token: lead.token });
    assert.equal(stands.body.method, 'lead');
    assert.equal(stands.body.verdict, 'abnormal');
    assert.deepEqual(stands.body.counts, { normal: 3, abnormal: 0 });
    const withdrawn = await app.request('DELETE', `/api/images/${img2}/resolution`, { token: lead.token });
    assert.equal(withdrawn.status, 200);
    assert.equal(withdrawn.body.method, 'unanimous');
    assert.equal(withdrawn.body.verdict, 'normal');
    const again = await app.request('DELETE', `/api/images/${img2}/resolution`, { token: lead.token });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, /no lead resolution to withdraw/);

    // Every expert has voted on both images: the queue is empty for them.
    const empty = await app.request('GET', '/api/queue/next', { token: e1.token });
    assert.equal(empty.status, 204);
  });

  test('experts cannot resolve, and unknown images answer 404', async () => {
    const [img] = await buildImages(app.server.services.db, { bundle: 'perm' });
    const r = await app.request('PUT', `/api/images/${img}/resolution`, {
      token: experts[0].token,
      json: { verdict: 'normal', anomalies: [], reason: 'x' },
    });
    assert.equal(r.status, 403);
    const missing = await vote(experts[0], '999999', { verdict: 'normal', anomalies: [] });
    assert.equal(missing.status, 404);
    assert.match(missing.body.detail, /no image with id 999999/);
  });
});
