import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB, ImageStatus, Verdict, ConsensusMethod } from '../../../lib/db/schema.ts';

type Exec = Kysely<DB> | Transaction<DB>;

/**
 * Lock one image row for the rest of the transaction. Every vote and resolution of an image takes this
 * lock first, so concurrent writers of one image serialise and each recomputes the consensus over the
 * votes committed before it (READ COMMITTED takes a fresh snapshot per statement, after the lock).
 * NO KEY UPDATE, not UPDATE: it does not block the foreign-key checks (KEY SHARE) of inserts that merely
 * reference the image, such as predictions. Returns undefined when the image does not exist.
 */
export function lockImage(tx: Transaction<DB>, imageId: string) {
  return tx
    .selectFrom('images')
    .select(['id', 'bundle_id'])
    .where('id', '=', imageId)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

export async function imageExists(db: Exec, imageId: string): Promise<boolean> {
  return (
    (await db.selectFrom('images').select('id').where('id', '=', imageId).executeTakeFirst()) !== undefined
  );
}

/** Each voter's latest vote on one image (the votes the rule counts). */
export function currentVotesOfImage(db: Exec, imageId: string) {
  return db
    .selectFrom('votes')
    .select(['user_id', 'verdict', 'anomalies'])
    .distinctOn('user_id')
    .where('image_id', '=', imageId)
    .orderBy('user_id')
    .orderBy('id', 'desc')
    .execute();
}

/** The latest resolution row of an image; it is active when its action is `resolve`. */
export function latestResolution(db: Exec, imageId: string) {
  return db
    .selectFrom('resolutions')
    .select(['id', 'user_id', 'action', 'verdict', 'anomalies', 'reason', 'created_at'])
    .where('image_id', '=', imageId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function insertResolution(
  tx: Transaction<DB>,
  r: {
    imageId: string;
    userId: string;
    action: 'resolve' | 'withdraw';
    verdict?: Verdict;
    anomalies?: string[];
    reason?: string;
  },
) {
  return tx
    .insertInto('resolutions')
    .values({
      image_id: r.imageId,
      user_id: r.userId,
      action: r.action,
      verdict: r.verdict ?? null,
      anomalies: r.anomalies ?? [],
      reason: r.reason ?? null,
    })
    .returning(['id', 'created_at'])
    .executeTakeFirstOrThrow();
}

/** Every current vote (latest per voter and image) of every image, or of one bundle. */
export function allCurrentVotes(db: Exec, bundle?: string) {
  let q = db
    .selectFrom('votes as v')
    .select(['v.image_id', 'v.user_id', 'v.verdict', 'v.anomalies'])
    .distinctOn(['v.image_id', 'v.user_id'])
    .orderBy('v.image_id')
    .orderBy('v.user_id')
    .orderBy('v.id', 'desc');
  if (bundle !== undefined) {
    q = q
      .innerJoin('images as i', 'i.id', 'v.image_id')
      .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
      .where('b.name', '=', bundle);
  }
  return q.execute();
}

/** The latest resolution row per image (active when `action = 'resolve'`). */
export function allLatestResolutions(db: Exec) {
  return db
    .selectFrom('resolutions')
    .select(['image_id', 'user_id', 'action', 'verdict', 'anomalies', 'reason', 'created_at'])
    .distinctOn('image_id')
    .orderBy('image_id')
    .orderBy('id', 'desc')
    .execute();
}

export interface ConsensusRow {
  image_id: string;
  status: ImageStatus;
  verdict: Verdict | null;
  anomalies: string[];
  method: ConsensusMethod | null;
  normal_votes: number;
  abnormal_votes: number;
  votes_needed: number;
  resolved_by: string | null;
  reason: string | null;
  resolved_at: Date | null;
}

/**
 * Write the derived consensus of some images. `resolved_at` of a vote-based decision keeps its first
 * time while the decision (status, verdict, method) stays the same, so a confirming late vote does not
 * look like a new decision; a lead decision carries its resolution's time.
 */
export async function upsertConsensus(tx: Transaction<DB>, rows: ConsensusRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insertInto('image_consensus')
    .values(rows)
    .onConflict((oc) =>
      oc.column('image_id').doUpdateSet((eb) => ({
        status: eb.ref('excluded.status'),
        verdict: eb.ref('excluded.verdict'),
        anomalies: eb.ref('excluded.anomalies'),
        method: eb.ref('excluded.method'),
        normal_votes: eb.ref('excluded.normal_votes'),
        abnormal_votes: eb.ref('excluded.abnormal_votes'),
        votes_needed: eb.ref('excluded.votes_needed'),
        resolved_by: eb.ref('excluded.resolved_by'),
        reason: eb.ref('excluded.reason'),
        resolved_at: sql<Date | null>`case
          when excluded.method <> 'lead'
           and image_consensus.status = excluded.status
           and image_consensus.verdict is not distinct from excluded.verdict
           and image_consensus.method is not distinct from excluded.method
          then image_consensus.resolved_at else excluded.resolved_at end`,
        updated_at: sql<Date>`now()`,
      })),
    )
    .execute();
}

/** Unlabeled images need `votesRequired` votes: keep their stored count in step with the settings. */
export async function setUnlabeledVotesNeeded(tx: Transaction<DB>, votesRequired: number): Promise<void> {
  await tx
    .updateTable('image_consensus')
    .set({ votes_needed: votesRequired })
    .where('status', '=', 'unlabeled')
    .execute();
}

/** The stored consensus of one image with the resolving lead's name; undefined when none is stored yet. */
export function findConsensus(db: Exec, imageId: string) {
  return db
    .selectFrom('image_consensus as c')
    .leftJoin('users as u', 'u.id', 'c.resolved_by')
    .select([
      'c.image_id',
      'c.status',
      'c.verdict',
      'c.anomalies',
      'c.method',
      'c.normal_votes',
      'c.abnormal_votes',
      'c.votes_needed',
      'c.resolved_by',
      'u.username as resolved_by_username',
      'c.reason',
      'c.resolved_at',
    ])
    .where('c.image_id', '=', imageId)
    .executeTakeFirst();
}
