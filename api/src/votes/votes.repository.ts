import type { Exec } from '../../../lib/db/schema.ts';

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

/** Current votes of one image (latest per voter), oldest first. */
export async function listCurrentVotes(db: Exec, imageId: string) {
  const rows = await db
    .selectFrom('current_votes as v')
    .innerJoin('users as u', 'u.id', 'v.user_id')
    .select(VOTE_COLUMNS)
    .where('v.image_id', '=', imageId)
    .execute();
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

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
