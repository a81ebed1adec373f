import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import { buildImages, buildSignedInUsers, type FactoryUser } from '../votes/factories.ts';
import * as repo from './consensus.repository.ts';
import { recordVote } from './consensus.service.ts';

/**
 * The optimistic vote (consensus.service recordVote) writes vote + consensus in one statement only when
 * what it read is still true; these tests make the world change between the read and the write.
 */
let app: TestApp;
let experts: FactoryUser[];
let images: string[];

before(async () => {
  app = await startTestApp();
  experts = await buildSignedInUsers(app.server.services.db, 'expert', 4);
  images = await buildImages(app.server.services.db, { bundle: 'optimistic', count: 6 });
});
after(() => app?.close());

const db = () => app.server.services.db;
const vote = (imageId: string, expert: FactoryUser, verdict: 'normal' | 'abnormal' = 'normal') => ({
  imageId,
  userId: expert.id,
  verdict,
  anomalies: [],
  comment: null,
  modelHintShown: false,
  anomalyHint: null,
});
const pendingRow = (imageId: string, normal: number): repo.ConsensusRow => ({
  image_id: imageId,
  status: 'pending',
  verdict: null,
  anomalies: [],
  method: null,
  normal_votes: normal,
  abnormal_votes: 0,
  votes_needed: 3 - normal,
  resolved_by: null,
  reason: null,
  resolved_at: null,
});
const storedVotes = async (imageId: string) =>
  Number(
    (await sql<{ n: string }>`select count(*) as n from votes where image_id = ${imageId}`.execute(db()))
      .rows[0].n,
  );
const consensusOf = (imageId: string) =>
  db()
    .selectFrom('image_consensus')
    .select(['status', 'normal_votes', 'revision'])
    .where('image_id', '=', imageId)
    .executeTakeFirst();

describe('the optimistic vote', () => {
  test('writes vote and consensus, and bumps the revision, when nothing changed since the read', async () => {
    const image = images[0];
    const first = await repo.ruleInputs(db(), image);
    assert.equal(first.revision, null, 'no consensus row before the first vote');
    assert.ok(await repo.insertVoteIfUnchanged(db(), vote(image, experts[0]), pendingRow(image, 1), first));
    const second = await repo.ruleInputs(db(), image);
    assert.equal(second.revision, '0');
    assert.ok(await repo.insertVoteIfUnchanged(db(), vote(image, experts[1]), pendingRow(image, 2), second));
    assert.deepEqual(await consensusOf(image), { status: 'pending', normal_votes: 2, revision: '1' });
    assert.equal(await storedVotes(image), 2);
  });

  test('refuses, writing nothing, when another vote landed between its read and its write', async () => {
    const image = images[1];
    await recordVote(db(), vote(image, experts[0]));
    const stale = await repo.ruleInputs(db(), image);
    await recordVote(db(), vote(image, experts[1]));
    const before = await consensusOf(image);
    assert.equal(
      await repo.insertVoteIfUnchanged(db(), vote(image, experts[2]), pendingRow(image, 2), stale),
      undefined,
    );
    assert.equal(await storedVotes(image), 2);
    assert.deepEqual(await consensusOf(image), before);
  });

  test('refuses a first vote when another first vote created the consensus row meanwhile', async () => {
    const image = images[2];
    const stale = await repo.ruleInputs(db(), image);
    await recordVote(db(), vote(image, experts[0]));
    assert.equal(
      await repo.insertVoteIfUnchanged(db(), vote(image, experts[1]), pendingRow(image, 1), stale),
      undefined,
    );
    assert.equal(await storedVotes(image), 1);
  });

  test('refuses when the settings changed between its read and its write', async () => {
    const image = images[3];
    const stale = await repo.ruleInputs(db(), image);
    const r = await app.request('PUT', '/api/settings', {
      token: app.admin.token,
      json: { votesRequired: 2 },
    });
    assert.equal(r.status, 200);
    try {
      assert.equal(
        await repo.insertVoteIfUnchanged(db(), vote(image, experts[0]), pendingRow(image, 1), stale),
        undefined,
      );
      assert.equal(await storedVotes(image), 0);
    } finally {
      await app.request('PUT', '/api/settings', { token: app.admin.token, json: { votesRequired: 3 } });
    }
  });

  test('refuses when the lead resolved the image between its read and its write', async () => {
    const image = images[4];
    await recordVote(db(), vote(image, experts[0]));
    const stale = await repo.ruleInputs(db(), image);
    const lead = (await buildSignedInUsers(db(), 'lead', 1, 'optimistic-lead'))[0];
    const r = await app.request('PUT', `/api/images/${image}/resolution`, {
      token: lead.token,
      json: { verdict: 'abnormal', anomalies: [], reason: 'visible coating gap' },
    });
    assert.equal(r.status, 200);
    assert.equal(
      await repo.insertVoteIfUnchanged(db(), vote(image, experts[1]), pendingRow(image, 2), stale),
      undefined,
    );
    assert.equal(await storedVotes(image), 1);
    assert.equal((await consensusOf(image))?.status, 'resolved');
  });

  test('recordVote falls back to the locked path when refused, and the stored consensus is the rule’s', async () => {
    const image = images[5];
    // Three votes at once on one image: at most one optimistic write per revision succeeds, the others
    // are refused and take the lock; all three must be stored and counted.
    await Promise.all(
      experts.slice(0, 3).map((e, i) => recordVote(db(), vote(image, e, i === 0 ? 'abnormal' : 'normal'))),
    );
    assert.equal(await storedVotes(image), 3);
    const c = await db()
      .selectFrom('image_consensus')
      .select(['status', 'verdict', 'method', 'normal_votes', 'abnormal_votes'])
      .where('image_id', '=', image)
      .executeTakeFirstOrThrow();
    assert.deepEqual(c, {
      status: 'resolved',
      verdict: 'normal',
      method: 'majority',
      normal_votes: 2,
      abnormal_votes: 1,
    });
  });
});
