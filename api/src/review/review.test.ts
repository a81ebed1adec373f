import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import type { Verdict } from '../../../lib/db/schema.ts';
import {
  buildActiveModel,
  buildImages,
  buildSignedInUsers,
  buildVotes,
  type FactoryUser,
} from '../../../test/factories/votes.ts';

let app: TestApp;
let lead: FactoryUser;
let tie: string;
let dsTarget: string;
let contradicted: string;

/**
 * Experts A and B are careful; C and D always say "normal" (a spammer's pattern). On abnormal images
 * A and B outvote C or D; on normal images everyone agrees. Dawid–Skene learns that a "normal" from C or
 * D carries no evidence, so on the target image (A abnormal, C and D normal) it sides with A while the
 * majority says normal.
 */
before(async () => {
  app = await startTestApp();
  const db = app.server.services.db;
  const [a, b, c, d] = await buildSignedInUsers(db, 'expert', 4);
  [lead] = await buildSignedInUsers(db, 'lead', 1);
  const abnormal = await buildImages(db, { bundle: 'review', count: 16 });
  const normal = await buildImages(db, { bundle: 'review', count: 16 });
  [tie, dsTarget] = await buildImages(db, { bundle: 'review', count: 2 });
  const votes: { imageId: string; userId: string; verdict: Verdict }[] = [];
  abnormal.forEach((imageId, i) => {
    votes.push(
      { imageId, userId: a.id, verdict: 'abnormal' },
      { imageId, userId: b.id, verdict: 'abnormal' },
    );
    votes.push({ imageId, userId: (i % 2 ? c : d).id, verdict: 'normal' });
  });
  normal.forEach((imageId, i) => {
    for (const u of [a, b, i % 2 ? c : d]) votes.push({ imageId, userId: u.id, verdict: 'normal' });
  });
  for (const [u, verdict] of [
    [a, 'abnormal'],
    [b, 'abnormal'],
    [c, 'normal'],
    [d, 'normal'],
  ] as const) {
    votes.push({ imageId: tie, userId: u.id, verdict });
  }
  votes.push(
    { imageId: dsTarget, userId: a.id, verdict: 'abnormal' },
    { imageId: dsTarget, userId: c.id, verdict: 'normal' },
    { imageId: dsTarget, userId: d.id, verdict: 'normal' },
  );
  await buildVotes(db, votes);
  contradicted = normal[3];
  await buildActiveModel(db, [
    { imageId: contradicted, pAbnormal: 0.95, priority: 1, reason: 'contradicts consensus' },
    { imageId: normal[4], pAbnormal: 0.7 }, // not confident enough to flag
    { imageId: abnormal[0], pAbnormal: 0.9 }, // agrees
  ]);
});
after(() => app?.close());

describe('GET /api/review/queue', () => {
  test('lists needs_lead first, then Dawid–Skene disagreements, then confident model contradictions, each saying why', async () => {
    const r = await app.request('GET', '/api/review/queue', { token: lead.token });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.map((item: any) => [item.image.id, item.reasons.map((x: any) => x.code)]),
      [
        [tie, ['needs_lead']],
        [dsTarget, ['dawid_skene_disagrees']],
        [contradicted, ['model_contradicts']],
      ],
    );
    const [tieItem, dsItem, modelItem] = r.body;
    assert.equal(tieItem.consensus.status, 'needs_lead');
    assert.equal(tieItem.votes.length, 4);
    assert.equal(dsItem.consensus.verdict, 'normal');
    assert.ok(dsItem.dawidSkene.pAbnormal > 0.5, `posterior ${dsItem.dawidSkene.pAbnormal}`);
    assert.match(dsItem.reasons[0].detail, /the majority says normal, but .* P\(abnormal\) = 0\.\d\d/);
    assert.equal(modelItem.prediction.pAbnormal, 0.95);
    assert.match(
      modelItem.reasons[0].detail,
      /the consensus is normal, the model .* gives P\(abnormal\) = 0\.95/,
    );
    assert.equal(tieItem.image.bundle, 'review');
  });

  test('a lead resolution takes the image off the queue', async () => {
    const resolved = await app.request('PUT', `/api/images/${tie}/resolution`, {
      token: lead.token,
      json: { verdict: 'abnormal', anomalies: [], reason: 'agglomerate at the left edge' },
    });
    assert.equal(resolved.status, 200);
    const r = await app.request('GET', '/api/review/queue?limit=1', { token: lead.token });
    assert.deepEqual(
      r.body.map((item: any) => item.image.id),
      [dsTarget],
    );
  });

  test('is for leads and admins; a bad limit is refused', async () => {
    const [expert] = await buildSignedInUsers(app.server.services.db, 'expert', 1);
    assert.equal((await app.request('GET', '/api/review/queue', { token: expert.token })).status, 403);
    const bad = await app.request('GET', '/api/review/queue?limit=0', { token: lead.token });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /^query\.limit: /);
  });
});
