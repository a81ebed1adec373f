import { sql, type ExpressionBuilder, type Transaction } from 'kysely';
import type { DB, Exec, ImagesTable } from '../../../lib/db/schema.ts';

/**
 * The image's row under its lock (the one every vote and resolution takes first: consensus.repository
 * `lockImage`), with whether it is excluded: two leads excluding at once serialise, the second sees the first.
 */
export function lockImageForExclusion(tx: Transaction<DB>, imageId: string) {
  return tx
    .selectFrom('images')
    .select(['id', 'excluded'])
    .where('id', '=', imageId)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

/** Appends an exclude or restore action; the trigger of migration 1700 sets `images.excluded` from it. */
export async function insertExclusion(
  tx: Transaction<DB>,
  e: { imageId: string; userId: string; action: 'exclude' | 'restore'; reason: string | null },
): Promise<void> {
  await tx
    .insertInto('image_exclusions')
    .values({ image_id: e.imageId, user_id: e.userId, action: e.action, reason: e.reason })
    .execute();
}

/** An excluded image leaves the queue at once: its live leases go (an expert's open copy is not handed out again). */
export async function dropLeases(tx: Transaction<DB>, imageId: string): Promise<void> {
  await tx.deleteFrom('queue_leases').where('image_id', '=', imageId).execute();
}

/** The image's exclusion history, oldest first, with who acted. */
export function exclusionHistory(db: Exec, imageId: string) {
  return db
    .selectFrom('image_exclusions as x')
    .innerJoin('users as u', 'u.id', 'x.user_id')
    .select(['x.id', 'x.action', 'x.reason', 'u.username', 'x.created_at'])
    .where('x.image_id', '=', imageId)
    .orderBy('x.id')
    .execute();
}

/**
 * The exclusion in force of image `i` (its latest exclusion row, with who and why) as a lateral subquery `x`, for
 * readers that join it beside the image: `.leftJoinLateral(exclusionInForce, (j) => j.on('i.excluded', '=', true))`.
 * The `i.excluded` filter inside too is a one-time filter, so an included image costs no index probe at all.
 */
export function exclusionInForce(eb: ExpressionBuilder<DB & { i: ImagesTable }, 'i'>) {
  return eb
    .selectFrom('image_exclusions as x')
    .innerJoin('users as xu', 'xu.id', 'x.user_id')
    .select(['x.created_at', 'xu.username', 'x.reason'])
    .whereRef('x.image_id', '=', 'i.id')
    .where(sql<boolean>`i.excluded`)
    .orderBy('x.id', 'desc')
    .limit(1)
    .as('x');
}
