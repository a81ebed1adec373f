import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import {
  buildImages,
  buildSignedInUsers,
  buildVotes,
  type FactoryUser,
} from '../../../test/factories/votes.ts';
import { drawsReference } from './references.service.ts';

let app: TestApp;
let lead: FactoryUser;
let panel: FactoryUser[];
let newcomer: FactoryUser;
/** Resolved by the panel: two abnormal, two normal. */
let resolved: string[];
/** One vote only: still pending. */
let pending: string;

before(async () => {
  app = await startTestApp();
  const db = app.server.services.db;
  panel = await buildSignedInUsers(db, 'expert', 3);
  [newcomer] = await buildSignedInUsers(db, 'expert', 1);
  [lead] = await buildSignedInUsers(db, 'lead', 1);
  resolved = await buildImages(db, { bundle: 'R', count: 4 });
  [pending] = await buildImages(db, { bundle: 'P', count: 1 });
  // Nobody voted on these: the newcomer's ordinary work between references.
  await buildImages(db, { bundle: 'F', count: 30 });
  const verdicts = ['abnormal', 'abnormal', 'normal', 'normal'] as const;
  await buildVotes(db, [
    ...resolved.flatMap((imageId, i) =>
      panel.map((e) => ({
        imageId,
        userId: e.id,
        verdict: verdicts[i],
        anomalies: verdicts[i] === 'abnormal' ? ['bubbles'] : [],
      })),
    ),
    { imageId: pending, userId: panel[0].id, verdict: 'normal' },
  ]);
});
after(() => app?.close());

const as = (u: { token: string }) => ({ token: u.token });

describe('marking reference images (lead, admin)', () => {
  test('a resolved image becomes a reference whose answer is its consensus', async () => {
    const r = await app.request('PUT', `/api/images/${resolved[0]}/reference`, as(lead));
    assert.equal(r.status, 200);
    assert.equal(r.body.image.id, resolved[0]);
    assert.equal(r.body.verdict, 'abnormal');
    assert.deepEqual(r.body.anomalies, ['bubbles']);
    assert.equal(r.body.answers, 0);
  });

  test('refused, changing nothing: an unresolved image, a reference twice, no such image, an expert', async () => {
    const unresolved = await app.request('PUT', `/api/images/${pending}/reference`, as(lead));
    assert.equal(unresolved.status, 409);
    assert.match(unresolved.body.detail, /only a resolved image can be a reference; image \d+ is pending/);
    const twice = await app.request('PUT', `/api/images/${resolved[0]}/reference`, as(lead));
    assert.equal(twice.status, 409);
    assert.match(twice.body.detail, /is a reference already/);
    const missing = await app.request('PUT', '/api/images/999999/reference', as(lead));
    assert.equal(missing.status, 404);
    assert.match(missing.body.detail, /no image with id 999999/);
    const expert = await app.request('PUT', `/api/images/${resolved[1]}/reference`, as(panel[0]));
    assert.equal(expert.status, 403);
    const notOne = await app.request('DELETE', `/api/images/${resolved[1]}/reference`, as(lead));
    assert.equal(notOne.status, 409);
    assert.match(notOne.body.detail, /is not a reference/);
    const list = await app.request('GET', '/api/references', as(lead));
    assert.deepEqual(
      list.body.references.map((r: { image: { id: string } }) => r.image.id),
      [resolved[0]],
    );
  });

  test('unmarking keeps the history; marking again works', async () => {
    await app.request('PUT', `/api/images/${resolved[1]}/reference`, as(lead));
    const gone = await app.request('DELETE', `/api/images/${resolved[1]}/reference`, as(lead));
    assert.equal(gone.status, 204);
    const again = await app.request('PUT', `/api/images/${resolved[1]}/reference`, as(lead));
    assert.equal(again.status, 200);
  });

  test('the rate is 0 until a lead sets it, from 0 to 0.5; a bad rate is refused and changes nothing', async () => {
    assert.equal((await app.request('GET', '/api/references', as(lead))).body.rate, 0);
    for (const rate of [-0.1, 0.6, '0.2']) {
      const bad = await app.request('PUT', '/api/references/rate', { ...as(lead), json: { rate } });
      assert.equal(bad.status, 422, String(rate));
      assert.match(bad.body.detail, /rate/);
    }
    assert.equal((await app.request('GET', '/api/references', as(lead))).body.rate, 0);
    const expert = await app.request('PUT', '/api/references/rate', { ...as(panel[0]), json: { rate: 0.2 } });
    assert.equal(expert.status, 403);
  });
});

describe('references in the queue: blind, at the lead’s rate, answers kept apart from votes', () => {
  test('with rate 0 no reference is ever offered', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await app.request('GET', '/api/queue/next', as(newcomer));
      assert.ok(!resolved.includes(r.body.id));
      await app.request('PUT', `/api/images/${r.body.id}/votes/me`, {
        ...as(newcomer),
        json: { verdict: 'normal', anomalies: [] },
      });
    }
  });

  test('each next image is a reference exactly when the expert’s draw is below the rate', async () => {
    await app.request('PUT', `/api/images/${resolved[2]}/reference`, as(lead));
    await app.request('PUT', '/api/references/rate', { ...as(lead), json: { rate: 0.5 } });
    const references = new Set([resolved[0], resolved[1], resolved[2]]);
    const votesBefore = await app.request('GET', `/api/images/${resolved[0]}/votes/history`, as(lead));
    let done = 5; // the five votes above
    let offered = 0;
    for (let i = 0; i < 20 && offered < references.size; i++) {
      const r = await app.request('GET', '/api/queue/next', as(newcomer));
      assert.equal(r.status, 200);
      const expectReference = drawsReference(newcomer.id, done, 0.5);
      assert.equal(references.has(r.body.id), expectReference, `image ${i + 1} (after ${done} answers)`);
      // Blind: nothing in the queue's answer says "reference", and its status reads like any queue image's.
      assert.ok(['unlabeled', 'pending'].includes(r.body.status), r.body.status);
      assert.doesNotMatch(r.text, /reference/i);
      // A reload before answering gets the same image.
      assert.equal((await app.request('GET', '/api/queue/next', as(newcomer))).body.id, r.body.id);
      if (expectReference) offered++;
      // The newcomer waves everything through: wrong on the abnormal references, right on the normal one.
      const verdict = 'normal';
      const vote = await app.request('PUT', `/api/images/${r.body.id}/votes/me`, {
        ...as(newcomer),
        json: { verdict, anomalies: [] },
      });
      assert.equal(vote.status, 200);
      assert.equal(vote.body.verdict, verdict);
      done++;
    }
    assert.equal(offered, references.size, 'every reference was offered once');
    // The answers never became votes: the reference's votes and consensus are as the panel left them.
    const votesAfter = await app.request('GET', `/api/images/${resolved[0]}/votes/history`, as(lead));
    assert.deepEqual(votesAfter.body, votesBefore.body);
    const consensus = await app.request('GET', `/api/images/${resolved[0]}/consensus`, as(lead));
    assert.equal(consensus.body.verdict, 'abnormal');
    assert.deepEqual(consensus.body.counts, { normal: 0, abnormal: 3 });
  });

  test('each expert’s accuracy on references, overall and per day', async () => {
    const r = await app.request('GET', '/api/references', as(lead));
    assert.equal(r.status, 200);
    assert.equal(r.body.rate, 0.5);
    const mine = r.body.experts.find((e: { user: { id: string } }) => e.user.id === newcomer.id);
    // Both abnormal references answered "normal" (wrong), the normal one right.
    assert.equal(mine.answered, 3);
    assert.equal(mine.correct, 1);
    assert.equal(mine.accuracy, 1 / 3);
    assert.equal(mine.days.length, 1);
    assert.match(mine.days[0].day, /^\d{4}-\d{2}-\d{2}$/);
    const ref0 = r.body.references.find((x: { image: { id: string } }) => x.image.id === resolved[0]);
    assert.deepEqual([ref0.answers, ref0.correct], [1, 0]);
  });

  test('an expert answers each reference once; a lead is never offered one', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await app.request('GET', '/api/queue/next', as(newcomer));
      assert.ok(![resolved[0], resolved[1], resolved[2]].includes(r.body.id));
      await app.request('PUT', `/api/images/${r.body.id}/votes/me`, {
        ...as(newcomer),
        json: { verdict: 'normal', anomalies: [] },
      });
    }
    for (let i = 0; i < 6; i++) {
      const r = await app.request('GET', '/api/queue/next', as(lead));
      assert.ok(!resolved.includes(r.body.id));
      await app.request('PUT', `/api/images/${r.body.id}/votes/me`, {
        ...as(lead),
        json: { verdict: 'normal', anomalies: [] },
      });
    }
  });
});
