import { sql, type Expression, type Transaction } from 'kysely';
import type { ConsensusMethod, DB, Exec, ImageStatus, Verdict } from '../../../lib/db/schema.ts';
import { PREPARED } from '../../../lib/db/prepared.ts';
import { SETTINGS_TEXT, settingRowsFromText } from '../settings/settings.repository.ts';

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

/** One image's part of the rule's inputs. */
export interface ImageRuleInputs {
  /** The revision of its stored consensus row; null when none is stored yet. */
  revision: string | null;
  /** Each voter's latest vote. */
  votes: { user_id: string; verdict: Verdict; anomalies: string[] }[];
  /** Its latest resolution row (active when `action = 'resolve'`). */
  latest:
    | {
        user_id: string;
        action: 'resolve' | 'withdraw';
        verdict: Verdict | null;
        anomalies: string[];
        reason: string | null;
        created_at: Date;
      }
    | undefined;
}

export interface RuleInputs {
  /** The settings table as text (what the optimistic vote compares) and as key → value. */
  settingsText: string | null;
  settings: Map<string, unknown>;
  /** Per requested image id that exists. */
  images: Map<string, ImageRuleInputs>;
}

/**
 * Everything the rule needs for some images, in one round trip and one snapshot: the stored settings,
 * and per image each voter's latest vote, its latest resolution row and the revision of its consensus
 * row. Under the images' locks (recompute) or without them (the optimistic vote, which re-checks what it
 * read). Images that do not exist are absent from `images`.
 */
export async function ruleInputsOf(db: Exec, imageIds: readonly string[]): Promise<RuleInputs> {
  type Stored = Omit<ImageRuleInputs, 'votes' | 'latest'> & {
    image_id: string;
    votes: ImageRuleInputs['votes'] | null;
    latest: (Omit<NonNullable<ImageRuleInputs['latest']>, 'created_at'> & { created_at: string }) | null;
  };
  const result = await sql<{ settings: string | null; images: Stored[] | null }>`${PREPARED}
    select
      ${SETTINGS_TEXT} as settings,
      (select json_agg(json_build_object(
         'image_id', i.id::text,
         'revision', (select revision::text from image_consensus where image_id = i.id),
         'votes', (select json_agg(v) from (
            select c.user_id::text as user_id, c.verdict, c.anomalies
            from current_votes c where c.image_id = i.id order by c.user_id) v),
         'latest', (select row_to_json(r) from (
            select user_id::text, action, verdict, anomalies, reason, created_at
            from resolutions where image_id = i.id order by id desc limit 1) r)))
       from images i where i.id = any(${imageIds}::bigint[])) as images`.execute(db);
  const row = result.rows[0];
  return {
    settingsText: row.settings,
    settings: settingRowsFromText(row.settings),
    images: new Map(
      (row.images ?? []).map((i) => [
        i.image_id,
        {
          revision: i.revision,
          votes: i.votes ?? [],
          latest: i.latest ? { ...i.latest, created_at: new Date(i.latest.created_at) } : undefined,
        },
      ]),
    ),
  };
}

/**
 * `resolved_at` of a vote-based decision keeps its first time while the decision (status, verdict,
 * method) stays the same, so a confirming late vote does not move it; lead decisions carry their own.
 * `stored`: the row being overwritten; `incoming`: the new values (EXCLUDED.* of an upsert, or parameters).
 */
export function resolvedAtKept(
  stored: string,
  incoming: {
    status: Expression<unknown>;
    verdict: Expression<unknown>;
    method: Expression<unknown>;
    resolvedAt: Expression<unknown>;
  },
) {
  const s = sql.ref(stored);
  return sql<Date | null>`case
    when ${incoming.method} <> 'lead'
     and ${s}.status = ${incoming.status}
     and ${s}.verdict is not distinct from ${incoming.verdict}
     and ${s}.method is not distinct from ${incoming.method}
    then ${s}.resolved_at else ${incoming.resolvedAt} end`;
}

export async function imageExists(db: Exec, imageId: string): Promise<boolean> {
  return (
    (await db.selectFrom('images').select('id').where('id', '=', imageId).executeTakeFirst()) !== undefined
  );
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

/**
 * Every current vote (latest per voter and image) of every image, or of one bundle. `includedOnly`: of included
 * images only — what statistics read; the consensus itself is kept for excluded images too (their votes stay).
 */
export function allCurrentVotes(db: Exec, opts: { bundle?: string; includedOnly?: boolean } = {}) {
  let q = db
    .selectFrom('current_votes as v')
    .innerJoin('images as i', 'i.id', 'v.image_id')
    .select(['v.image_id', 'v.user_id', 'v.verdict', 'v.anomalies'])
    .orderBy('v.image_id')
    .orderBy('v.user_id');
  if (opts.includedOnly) q = q.where('i.excluded', '=', false);
  if (opts.bundle !== undefined) {
    q = q.innerJoin('bundles as b', 'b.id', 'i.bundle_id').where('b.name', '=', opts.bundle);
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
export async function upsertConsensus(
  tx: Transaction<DB>,
  rows: ConsensusRow[],
  releaseLeaseOf?: string,
): Promise<void> {
  if (rows.length === 0) return;
  // The voter's queue lease ends with their vote: deleted in the same statement (one round trip less). No voter
  // (a resolution, a settings change) is an empty list, which ends no lease — no sentinel id.
  const voters = releaseLeaseOf === undefined ? [] : [releaseLeaseOf];
  await tx
    .with('released', (db) =>
      db
        .deleteFrom('queue_leases')
        .where('user_id', '=', sql<string>`any(${voters}::bigint[])`)
        .where(
          'image_id',
          'in',
          rows.map((r) => r.image_id),
        )
        .returning('image_id'),
    )
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
        resolved_at: resolvedAtKept('image_consensus', {
          status: sql.ref('excluded.status'),
          verdict: sql.ref('excluded.verdict'),
          method: sql.ref('excluded.method'),
          resolvedAt: sql.ref('excluded.resolved_at'),
        }),
        revision: sql<string>`image_consensus.revision + 1`,
        updated_at: sql<Date>`now()`,
      })),
    )
    .execute();
}

/** Unlabeled images need `votesRequired` votes: keep their stored count in step with the settings. */
export async function setUnlabeledVotesNeeded(tx: Transaction<DB>, votesRequired: number): Promise<void> {
  await tx
    .updateTable('image_consensus')
    .set({ votes_needed: votesRequired, revision: sql<string>`revision + 1` })
    .where('status', '=', 'unlabeled')
    .execute();
}

/** The stored consensus of one image with the resolving lead's name; undefined when none is stored yet. */
export function findConsensus(db: Exec, imageId: string) {
  return consensusWithResolver(db).where('c.image_id', '=', imageId).executeTakeFirst();
}

/** The consensus rows of these images in one statement (absent: no row yet), e.g. for the review queue. */
export function findConsensusOf(db: Exec, imageIds: readonly string[]) {
  if (imageIds.length === 0) return Promise.resolve([]);
  return consensusWithResolver(db).where('c.image_id', 'in', imageIds).execute();
}

function consensusWithResolver(db: Exec) {
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
    ]);
}
