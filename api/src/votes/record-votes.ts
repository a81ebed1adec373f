import type { Kysely } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';
import * as consensusRepo from '../consensus/consensus.repository.ts';
import { recomputeConsensus, toRow } from '../consensus/consensus.service.ts';
import { settingsFromRows } from '../../../lib/settings.ts';
import { RuleInputsCache } from './rule-inputs-cache.ts';
import * as votesRepo from './votes.repository.ts';

/**
 * THE vote's write path — start here. A vote travels:
 *
 *   PUT /api/images/:id/votes/me → votes.routes → votes.service castVote (edge checks, a blind reference's
 *   answer goes elsewhere) → services.votes, a group-commit batcher (batcher.ts, built in server.ts) →
 *   recordVotes below → per batch, one optimistic statement (votes.repository insertVotesIfUnchanged: the votes,
 *   their images' consensus rows by the rule of lib/consensus/rule.ts, and the voters' queue leases ended, only
 *   if nothing changed since the rule's inputs were read) → else, vote by vote, the locked path
 *   (votes.repository lockImageAndInsertVote, then consensus.service recomputeConsensus, which ends the lease).
 *
 * The rule's inputs come from the database (consensus.repository ruleInputsOf) or from what this process wrote
 * last (rule-inputs-cache.ts); the optimistic statement refuses any stale presumption, so both strategies store
 * exactly what voting one by one would (record-votes.test.ts).
 */

export interface RecordedVote {
  vote: votesRepo.StoredVote;
  /** The image's consensus once this vote (and any vote stored with it) counts. */
  consensus: consensusRepo.ConsensusRow;
}

/** A vote stored one by one under the image's lock; undefined when the image does not exist. */
function recordLocked(db: Kysely<DB>, vote: votesRepo.NewVote): Promise<RecordedVote | undefined> {
  return db.transaction().execute(async (tx) => {
    const locked = await votesRepo.lockImageAndInsertVote(tx, vote);
    if (!locked) return undefined;
    return { vote: locked, consensus: (await recomputeConsensus(tx, vote.imageId, vote.userId)).row };
  });
}

/**
 * Store votes, each with its image's new consensus, atomically per image; per vote, in the order given,
 * what was stored (undefined when its image does not exist) or why it failed. One vote is a batch of one.
 *
 * The common case costs one or two round trips for the whole batch and holds no lock between them:
 * read the rule's inputs of every image — or presume them from what this process wrote last (`known`,
 * rule-inputs-cache.ts: then no read at all) — apply the rule with each image's new votes in place of
 * their voters' previous ones, and write all in one statement that checks nothing changed meanwhile
 * (votesRepo.insertVotesIfUnchanged). The images where something did — a concurrent vote, a resolution, a
 * settings change, a wrong presumption — take the locked path, vote by vote: lock the image, insert,
 * recompute from the stored votes. So does a second vote of the same expert on the same image in one batch, and every vote
 * of a batch whose statement the data refused (one bad vote fails alone). All paths end in the same
 * stored state as voting one by one in the order given.
 */
export async function recordVotes(
  db: Kysely<DB>,
  votes: readonly votesRepo.NewVote[],
  /** What this process knows of the images' inputs (the API's lives as long as it does). */
  known = new RuleInputsCache(),
): Promise<PromiseSettledResult<RecordedVote | undefined>[]> {
  const seen = new Set<string>();
  const batched: number[] = [];
  const later: number[] = [];
  votes.forEach((v, i) => {
    const key = `${v.imageId}:${v.userId}`;
    (seen.has(key) ? later : batched).push(i);
    seen.add(key);
  });
  const results: PromiseSettledResult<RecordedVote | undefined>[] = new Array(votes.length);
  const stored = await storeIfUnchanged(
    db,
    batched.map((i) => votes[i]!),
    known,
  ).catch((error: unknown) => {
    if (refusedByData(error)) return new Map<string, RecordedVote>();
    throw error;
  });
  const retry: number[] = [];
  for (const i of batched) {
    const done = stored.get(`${votes[i]!.imageId}:${votes[i]!.userId}`);
    if (done) results[i] = { status: 'fulfilled', value: done };
    else retry.push(i);
  }
  // Retries of different images run side by side; those of one image queue on its lock in order.
  await Promise.all(
    groupBy([...retry, ...later], (i) => votes[i]!.imageId).map(async (group) => {
      known.forget(votes[group[0]!]!.imageId);
      for (const i of group) {
        results[i] = await recordLocked(db, votes[i]!).then(
          (value) => ({ status: 'fulfilled', value }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        );
      }
    }),
  );
  return results;
}

/** The optimistic batch: what it stored, by `imageId:userId` (unique within `votes`). */
async function storeIfUnchanged(
  db: Kysely<DB>,
  votes: readonly votesRepo.NewVote[],
  known: RuleInputsCache,
): Promise<Map<string, RecordedVote>> {
  const byImage = groupBy(votes, (v) => v.imageId);
  const ids = byImage.map((g) => g[0]!.imageId);
  let inputs = known.presumed(ids);
  if (!inputs) {
    inputs = await consensusRepo.ruleInputsOf(db, ids);
    known.learn(inputs);
  }
  const settings = settingsFromRows(inputs.settings);
  const now = new Date();
  const rows: votesRepo.GuardedConsensusRow[] = [];
  const counted = new Map<string, consensusRepo.ImageRuleInputs>();
  for (const group of byImage) {
    const id = group[0]!.imageId;
    const image = inputs.images.get(id);
    if (!image) continue; // no such image: the locked path says so
    const voters = new Set(group.map((v) => v.userId));
    const current = [
      ...image.votes.filter((v) => !voters.has(v.user_id)),
      ...group.map((v) => ({ user_id: v.userId, verdict: v.verdict, anomalies: v.anomalies })),
    ];
    counted.set(id, { ...image, votes: current });
    rows.push({ ...toRow(id, current, image.latest, settings, now), seen_revision: image.revision });
  }
  if (rows.length === 0) return new Map();
  const consensus = new Map(rows.map((r) => [r.image_id, r]));
  const written = await votesRepo.insertVotesIfUnchanged(db, votes, rows, inputs.settingsText);
  const revisions = new Map(written.map((w) => [w.image_id, w.revision]));
  for (const id of counted.keys()) {
    const revision = revisions.get(id);
    if (revision === undefined) known.refused(id);
    else known.wrote(id, { ...counted.get(id)!, revision });
  }
  return new Map(
    written.map(({ user_id, revision: _, ...vote }) => [
      `${vote.image_id}:${user_id}`,
      { vote, consensus: consensus.get(vote.image_id)! },
    ]),
  );
}

/**
 * A batch statement the data refused — a value it cannot take (class 22: text PostgreSQL cannot store,
 * should one get past the edge's checks), an integrity violation (class 23: say, a voter deleted
 * meanwhile) or a deadlock or serialization failure (class 40) — as opposed to a broken statement or
 * connection, which must surface. Every vote of a refused batch is retried alone, so one bad vote fails
 * only itself, never the other experts' votes that shared its statement.
 */
function refusedByData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|40)/.test(code);
}

/** Items grouped by key, groups in order of first appearance, items in order within a group. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}
