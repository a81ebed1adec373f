import type { DB, Exec, Verdict } from '../../../lib/db/schema.ts';
import { sql, type Transaction } from 'kysely';
import { PREPARED } from '../../../lib/db/prepared.ts';
import { resolvedAtKept, type ConsensusRow } from '../consensus/consensus.repository.ts';
import { SETTINGS_TEXT } from '../settings/settings.repository.ts';

export async function hasVoted(db: Exec, imageId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('votes')
    .select('id')
    .where('image_id', '=', imageId)
    .where('user_id', '=', userId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

const VOTE_COLUMNS = [
  'v.id',
  'v.image_id',
  'v.user_id',
  'u.username',
  'v.verdict',
  'v.anomalies',
  'v.comment',
  'v.model_hint_shown',
  'v.anomaly_hint',
  'v.created_at',
] as const;

/** Current votes of these images in one statement, each image's oldest first. */
export function listCurrentVotesOf(db: Exec, imageIds: readonly string[]) {
  if (imageIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('current_votes as v')
    .innerJoin('users as u', 'u.id', 'v.user_id')
    .select(VOTE_COLUMNS)
    .where('v.image_id', 'in', imageIds)
    .orderBy('v.image_id')
    .orderBy('v.id')
    .execute();
}

/** Every vote ever cast on one image, oldest first. */
export function listVoteHistory(db: Exec, imageId: string) {
  return db
    .selectFrom('votes as v')
    .innerJoin('users as u', 'u.id', 'v.user_id')
    .select(VOTE_COLUMNS)
    .where('v.image_id', '=', imageId)
    .orderBy('v.id')
    .execute();
}

// ---- The vote's writes (the write path: record-votes.ts). Votes are append-only: only inserts, never an update.

export interface NewVote {
  imageId: string;
  userId: string;
  verdict: Verdict;
  anomalies: string[];
  comment: string | null;
  modelHintShown: boolean;
  /** The types the model's hint pre-selected; null when no type hint was shown. */
  anomalyHint: string[] | null;
}

export interface StoredVote {
  id: string;
  image_id: string;
  verdict: Verdict;
  anomalies: string[];
  comment: string | null;
  model_hint_shown: boolean;
  anomaly_hint: string[] | null;
  created_at: Date;
}

/** A consensus row the caller computed, with the revision of the stored row it read (null: none stored). */
export interface GuardedConsensusRow extends ConsensusRow {
  seen_revision: string | null;
}

/**
 * The vote, under the image's row lock, in one statement: the CTE takes the lock (waiting for a
 * concurrent writer of the same image) and the insert follows. Undefined when the image does not exist.
 */
export async function lockImageAndInsertVote(
  tx: Transaction<DB>,
  v: NewVote,
): Promise<StoredVote | undefined> {
  const result = await sql<StoredVote>`${PREPARED}
    with locked as (select id from images where id = ${v.imageId} for no key update)
    insert into votes (image_id, user_id, verdict, anomalies, comment, model_hint_shown, anomaly_hint)
    select id, ${v.userId}, ${v.verdict}, ${v.anomalies}::text[], ${v.comment}, ${v.modelHintShown},
           ${v.anomalyHint}::text[]
    from locked
    returning id, image_id, verdict, anomalies, comment, model_hint_shown, anomaly_hint,
              created_at`.execute(tx);
  return result.rows[0];
}

/**
 * The optimistic vote, for a batch of votes: in ONE statement (its own transaction), lock the images
 * (in id order, so two batches cannot deadlock), write each image's consensus row the caller computed —
 * only if that row's revision and the settings are still those the caller read — then insert the votes
 * of the images written (in the order given, so a later vote gets the larger id) and end their voters'
 * leases. Returns the stored votes, each with the revision its image's consensus row now has; a vote is
 * missing when its image changed since the read (or the presumption), or does not exist: nothing of that
 * image was written, and the caller takes the locked path for it. Each write depends on the previous
 * CTE's rows, so an image's lock is held before its consensus row is touched.
 *
 * Why it is exact: a concurrent writer of an image either committed before this statement's snapshot
 * (the revision or settings differ: refused), holds the image's lock (this statement waits, then the
 * UPDATE re-checks the revision on the newest row version: refused), or starts after (it reads these
 * votes). A first vote inserts the consensus row with ON CONFLICT DO NOTHING, so a concurrent first vote
 * makes it refuse too. Rows and votes travel as two JSON parameters (arrays of text[] do not unnest).
 */
export async function insertVotesIfUnchanged(
  db: Exec,
  votes: readonly NewVote[],
  rows: readonly GuardedConsensusRow[],
  settingsText: string | null,
): Promise<(StoredVote & { user_id: string; revision: string })[]> {
  const votesJson = JSON.stringify(
    votes.map((v, ord) => ({
      ord,
      image_id: v.imageId,
      user_id: v.userId,
      verdict: v.verdict,
      anomalies: v.anomalies,
      comment: v.comment,
      model_hint_shown: v.modelHintShown,
      anomaly_hint: v.anomalyHint,
    })),
  );
  const g = {
    status: sql`g.status`,
    verdict: sql`g.verdict`,
    method: sql`g.method`,
    resolvedAt: sql`g.resolved_at`,
  };
  const result = await sql<StoredVote & { user_id: string; revision: string }>`${PREPARED}
    with incoming as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
        image_id bigint, seen_revision bigint, status text, verdict text, anomalies text[], method text,
        normal_votes int, abnormal_votes int, votes_needed int, resolved_by bigint, reason text,
        resolved_at timestamptz)
    ), locked as (
      select id from images where id in (select image_id from incoming) order by id for no key update
    ), guard as (
      select r.* from incoming r join locked l on l.id = r.image_id
      where ${SETTINGS_TEXT} is not distinct from ${settingsText}::text
    ), updated as (
      update image_consensus c set
        status = g.status, verdict = g.verdict, anomalies = g.anomalies, method = g.method,
        normal_votes = g.normal_votes, abnormal_votes = g.abnormal_votes, votes_needed = g.votes_needed,
        resolved_by = g.resolved_by, reason = g.reason, resolved_at = ${resolvedAtKept('c', g)},
        revision = c.revision + 1, updated_at = now()
      from guard g where c.image_id = g.image_id and c.revision = g.seen_revision
      returning c.image_id, c.revision
    ), inserted as (
      insert into image_consensus (image_id, status, verdict, anomalies, method, normal_votes,
                                   abnormal_votes, votes_needed, resolved_by, reason, resolved_at)
      select image_id, status, verdict, anomalies, method, normal_votes, abnormal_votes, votes_needed,
             resolved_by, reason, resolved_at
      from guard where seen_revision is null
      on conflict (image_id) do nothing
      returning image_id, revision
    ), written as (
      select image_id, revision from updated union all select image_id, revision from inserted
    ), vote as (
      insert into votes (image_id, user_id, verdict, anomalies, comment, model_hint_shown, anomaly_hint)
      select v.image_id, v.user_id, v.verdict, v.anomalies, v.comment, v.model_hint_shown, v.anomaly_hint
      from jsonb_to_recordset(${votesJson}::jsonb) as v(
        ord int, image_id bigint, user_id bigint, verdict text, anomalies text[], comment text,
        model_hint_shown boolean, anomaly_hint text[])
      where v.image_id in (select image_id from written)
      order by v.ord
      returning id, image_id, user_id, verdict, anomalies, comment, model_hint_shown, anomaly_hint,
                created_at
    ), released as (
      delete from queue_leases l using vote where l.user_id = vote.user_id and l.image_id = vote.image_id
    )
    select vote.*, written.revision::text as revision
    from vote join written on written.image_id = vote.image_id`.execute(db);
  return result.rows;
}
