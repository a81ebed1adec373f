import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import { buildImages, buildSignedInUsers, type FactoryUser } from '../../../test/factories/votes.ts';
import * as repo from './votes.repository.ts';
import * as consensusRepo from '../consensus/consensus.repository.ts';
import { recordVotes } from './record-votes.ts';
import { RuleInputsCache } from './rule-inputs-cache.ts';

/**
 * The optimistic vote (consensus.service recordVotes) writes a batch of votes and their images' consensus
 * in one statement, image by image only where what it read is still true; these tests make the world
 * change between the read and the write.
 */
let app: TestApp;
let experts: FactoryUser[];
let images: string[];

before(async () => {
  app = await startTestApp();
  experts = await buildSignedInUsers(app.server.services.db, 'expert', 4);
  images = await buildImages(app.server.services.db, { bundle: 'optimistic', count: 14 });
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
const pendingRow = (imageId: string, normal: number): consensusRepo.ConsensusRow => ({
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

/** One expert's vote through the optimistic statement alone: the stored vote, or undefined when refused. */
async function tryWrite(
  imageId: string,
  expert: FactoryUser,
  row: consensusRepo.ConsensusRow,
  read: consensusRepo.RuleInputs,
) {
  const written = await repo.insertVotesIfUnchanged(
    db(),
    [vote(imageId, expert)],
    [{ ...row, seen_revision: read.images.get(imageId)!.revision }],
    read.settingsText,
  );
  return written[0];
}
const read = (...ids: string[]) => consensusRepo.ruleInputsOf(db(), ids);
/** recordVotes, one vote: what it stored (throws what it failed with). */
async function recordOne(v: ReturnType<typeof vote>) {
  const [r] = await recordVotes(db(), [v]);
  if (r!.status === 'rejected') throw r!.reason;
  return r!.value;
}

describe('the optimistic vote', () => {
  test('writes vote and consensus, and bumps the revision, when nothing changed since the read', async () => {
    const image = images[0];
    const first = await read(image);
    assert.equal(first.images.get(image)!.revision, null, 'no consensus row before the first vote');
    assert.ok(await tryWrite(image, experts[0], pendingRow(image, 1), first));
    const second = await read(image);
    assert.equal(second.images.get(image)!.revision, '0');
    assert.ok(await tryWrite(image, experts[1], pendingRow(image, 2), second));
    assert.deepEqual(await consensusOf(image), { status: 'pending', normal_votes: 2, revision: '1' });
    assert.equal(await storedVotes(image), 2);
  });

  test('refuses, writing nothing, when another vote landed between its read and its write', async () => {
    const image = images[1];
    await recordOne(vote(image, experts[0]));
    const stale = await read(image);
    await recordOne(vote(image, experts[1]));
    const before = await consensusOf(image);
    assert.equal(await tryWrite(image, experts[2], pendingRow(image, 2), stale), undefined);
    assert.equal(await storedVotes(image), 2);
    assert.deepEqual(await consensusOf(image), before);
  });

  test('refuses a first vote when another first vote created the consensus row meanwhile', async () => {
    const image = images[2];
    const stale = await read(image);
    await recordOne(vote(image, experts[0]));
    assert.equal(await tryWrite(image, experts[1], pendingRow(image, 1), stale), undefined);
    assert.equal(await storedVotes(image), 1);
  });

  test('refuses when the settings changed between its read and its write', async () => {
    const image = images[3];
    const stale = await read(image);
    const r = await app.request('PUT', '/api/settings', {
      token: app.admin.token,
      json: { votesRequired: 2 },
    });
    assert.equal(r.status, 200);
    try {
      assert.equal(await tryWrite(image, experts[0], pendingRow(image, 1), stale), undefined);
      assert.equal(await storedVotes(image), 0);
    } finally {
      await app.request('PUT', '/api/settings', { token: app.admin.token, json: { votesRequired: 3 } });
    }
  });

  test('refuses when the lead resolved the image between its read and its write', async () => {
    const image = images[4];
    await recordOne(vote(image, experts[0]));
    const stale = await read(image);
    const lead = (await buildSignedInUsers(db(), 'lead', 1, 'optimistic-lead'))[0];
    const r = await app.request('PUT', `/api/images/${image}/resolution`, {
      token: lead.token,
      json: { verdict: 'abnormal', anomalies: [], reason: 'visible coating gap' },
    });
    assert.equal(r.status, 200);
    assert.equal(await tryWrite(image, experts[1], pendingRow(image, 2), stale), undefined);
    assert.equal(await storedVotes(image), 1);
    assert.equal((await consensusOf(image))?.status, 'resolved');
  });

  test('in a batch, refuses only the images that changed; the others are written', async () => {
    const [fresh, stale] = [images[6], images[7]];
    const seen = await read(fresh, stale);
    await recordOne(vote(stale, experts[0]));
    const written = await repo.insertVotesIfUnchanged(
      db(),
      [vote(fresh, experts[1]), vote(stale, experts[1])],
      [
        { ...pendingRow(fresh, 1), seen_revision: null },
        { ...pendingRow(stale, 1), seen_revision: null },
      ],
      seen.settingsText,
    );
    assert.deepEqual(
      written.map((w) => [w.image_id, w.user_id]),
      [[fresh, experts[1].id]],
    );
    assert.equal(await storedVotes(fresh), 1);
    assert.equal(await storedVotes(stale), 1, 'only the vote recorded before');
  });

  test('recordVotes falls back to the locked path when refused, and the stored consensus is the rule’s', async () => {
    const image = images[5];
    // Three votes at once on one image, each its own batch: at most one optimistic write per revision
    // succeeds, the others are refused and take the lock; all three must be stored and counted.
    await Promise.all(
      experts.slice(0, 3).map((e, i) => recordOne(vote(image, e, i === 0 ? 'abnormal' : 'normal'))),
    );
    assert.equal(await storedVotes(image), 3);
    assert.deepEqual(await decision(image), NORMAL_TWO_TO_ONE);
  });
});

describe('a batch of votes', () => {
  test('several experts on one image: stored in the given order, the consensus counts them all', async () => {
    const image = images[8];
    const results = await recordVotes(db(), [
      vote(image, experts[0], 'abnormal'),
      vote(image, experts[1]),
      vote(image, experts[2]),
    ]);
    const ids = results.map((r) => (r.status === 'fulfilled' ? Number(r.value!.vote.id) : NaN));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'ids follow the order given',
    );
    assert.deepEqual(await decision(image), NORMAL_TWO_TO_ONE);
    assert.deepEqual(await consensusOf(image).then((c) => c?.revision), '0', 'one write for the batch');
  });

  test('an expert voting twice on one image in one batch: both stored, the later one counts', async () => {
    const image = images[9];
    const results = await recordVotes(db(), [
      vote(image, experts[0], 'abnormal'),
      vote(image, experts[0], 'normal'),
    ]);
    assert.ok(results.every((r) => r.status === 'fulfilled' && r.value));
    assert.equal(await storedVotes(image), 2);
    assert.deepEqual(await consensusOf(image).then((c) => c?.normal_votes), 1);
  });

  test('a missing image answers undefined for its vote only', async () => {
    const image = images[10];
    const results = await recordVotes(db(), [vote('999999999', experts[0]), vote(image, experts[0])]);
    assert.deepEqual(results[0], { status: 'fulfilled', value: undefined });
    assert.equal(results[1]!.status, 'fulfilled');
    assert.equal(await storedVotes(image), 1);
  });

  test('a vote the database refuses fails alone; the rest of its batch is stored', async () => {
    const image = images[11];
    const ghost = { ...experts[1], id: '999999999' }; // no such user: a foreign-key violation
    const results = await recordVotes(db(), [vote(image, experts[0]), vote(image, ghost)]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[1]!.status, 'rejected');
    assert.equal((results[1] as PromiseRejectedResult).reason.code, '23503');
    assert.equal(await storedVotes(image), 1);
    assert.deepEqual(await consensusOf(image).then((c) => c?.normal_votes), 1);
  });
});

describe('votes presumed from what this process wrote (RuleInputsCache)', () => {
  /** recordVotes with a given cache: one API process's view. */
  const castWith = async (known: RuleInputsCache, v: ReturnType<typeof vote>) => {
    const [r] = await recordVotes(db(), [v], known);
    assert.equal(r!.status, 'fulfilled');
  };

  test('a vote another process stored in between is caught: all votes count', async () => {
    const image = images[12];
    const here = new RuleInputsCache();
    await castWith(here, vote(image, experts[0], 'abnormal')); // reads, writes, remembers
    await castWith(new RuleInputsCache(), vote(image, experts[1])); // elsewhere
    await castWith(here, vote(image, experts[2])); // presumes one vote: refused, then locked
    assert.equal(await storedVotes(image), 3);
    assert.deepEqual(await decision(image), NORMAL_TWO_TO_ONE);
  });

  test('an image presumed never voted on, that was, is caught: all votes count', async () => {
    const image = images[13];
    const here = new RuleInputsCache();
    await castWith(here, vote(images[0], experts[3])); // this process now knows the settings
    await castWith(new RuleInputsCache(), vote(image, experts[0], 'abnormal'));
    await castWith(new RuleInputsCache(), vote(image, experts[1], 'abnormal'));
    await castWith(here, vote(image, experts[2])); // presumed fresh: refused, then locked
    assert.deepEqual(await decision(image), {
      status: 'resolved',
      verdict: 'abnormal',
      method: 'majority',
      normal_votes: 1,
      abnormal_votes: 2,
    });
  });
});

/** The decision of three votes, two normal and one abnormal. */
const NORMAL_TWO_TO_ONE = {
  status: 'resolved',
  verdict: 'normal',
  method: 'majority',
  normal_votes: 2,
  abnormal_votes: 1,
};

const decision = (imageId: string) =>
  db()
    .selectFrom('image_consensus')
    .select(['status', 'verdict', 'method', 'normal_votes', 'abnormal_votes'])
    .where('image_id', '=', imageId)
    .executeTakeFirstOrThrow();
