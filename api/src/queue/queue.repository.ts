import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';

type Exec = Kysely<DB> | Transaction<DB>;

/** How long an image handed out by the queue stays reserved for the expert who got it. */
export const LEASE_MINUTES = 10;

/** How many candidates each ordering considers; the first one not locked by a concurrent request wins. */
const CANDIDATES = 24;
/** Fresh candidates per bundle (several, so concurrent experts do not all collide on each bundle's first). */
const PER_BUNDLE = 3;

/**
 * The votes an image still needs: the stored `votes_needed` once votes exist; `votesRequired` for an
 * image nobody has voted on yet (whether or not it has a consensus row), so a settings change applies
 * to fresh images at once.
 */
const needed = (votesRequired: number) =>
  sql<number>`case when c.image_id is null or c.status = 'unlabeled' then ${votesRequired} else c.votes_needed end`;

/**
 * How many live leases of other experts an image may carry and still be handed out: `exclusive` — none
 * (first choice: experts asking at about the same time get different images while enough are open);
 * `shared` — fewer than the votes it still needs (so no more copies go out than votes can count).
 */
export type Sharing = 'exclusive' | 'shared';

/** "Open for this expert": still needs votes, the expert has not voted on it, and leases allow it. */
function openFor(userId: string, votesRequired: number, sharing: Sharing) {
  const limit = sharing === 'exclusive' ? sql<number>`1` : needed(votesRequired);
  return sql<boolean>`(
    ${needed(votesRequired)} > 0
    and not exists (select 1 from votes v where v.image_id = i.id and v.user_id = ${userId})
    and (select count(*) from queue_leases l
         where l.image_id = i.id and l.user_id <> ${userId} and l.expires_at > now()) < ${limit}
  )`;
}

/** The expert's own live lease on an image that is still open for them (a reload gets the same image). */
export async function ownLease(db: Exec, userId: string, votesRequired: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('queue_leases as ql')
    .innerJoin('images as i', 'i.id', 'ql.image_id')
    .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
    .select('i.id')
    .where('ql.user_id', '=', userId)
    .where('ql.expires_at', '>', sql<Date>`now()`)
    .where(openFor(userId, votesRequired, 'shared'))
    .orderBy('ql.expires_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

/** 1. With a model: open images by the active model's priority (issue 7), highest first. */
export async function byModelPriority(
  db: Exec,
  userId: string,
  votesRequired: number,
  sharing: Sharing,
  modelVersion: string,
) {
  const rows = await db
    .selectFrom('predictions as p')
    .innerJoin('images as i', 'i.id', 'p.image_id')
    .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
    .select('i.id')
    .where('p.model_version', '=', modelVersion)
    .where(openFor(userId, votesRequired, sharing))
    .orderBy('p.priority', 'desc')
    .orderBy('i.id')
    .limit(CANDIDATES)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * 2. Started images first (some votes, not decided): finishing them yields consensus labels sooner than
 * opening new ones. Driven by the (status, image_id) index; there are few such images at any time.
 */
export async function startedImages(db: Exec, userId: string, votesRequired: number, sharing: Sharing) {
  const rows = await db
    .selectFrom('image_consensus as c')
    .innerJoin('images as i', 'i.id', 'c.image_id')
    .select('i.id')
    .where('c.status', '=', 'pending')
    .where(openFor(userId, votesRequired, sharing))
    .orderBy('c.image_id')
    .limit(CANDIDATES)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * 3. Fresh images, spread across bundles so every bundle gets labeled early, then oldest first: for each
 * bundle its oldest open fresh image (an index scan on images (bundle_id, id) that stops at the first
 * hit), and among bundles the one least far into its own upload order, measured as the distance in ids
 * from the bundle's first image. That is exact round-robin when bundles are uploaded one after another,
 * and still fair when uploads interleave (every bundle's distances grow at the same rate); it avoids
 * counting labeled images per bundle on every request, which costs a scan of the whole table.
 */
export async function freshImagesAcrossBundles(
  db: Exec,
  userId: string,
  votesRequired: number,
  sharing: Sharing,
) {
  const result = await sql<{ id: string }>`
    select x.id
    from bundles b
    cross join lateral (
      select i.id
      from images i
      left join image_consensus c on c.image_id = i.id
      where i.bundle_id = b.id
        and (c.image_id is null or c.status = 'unlabeled')
        and ${openFor(userId, votesRequired, sharing)}
      order by i.id
      limit ${PER_BUNDLE}
    ) x
    -- The bundle's first image: a row comparison the pkey cannot serve, so the planner walks
    -- images (bundle_id, id) — with "min(id) where bundle_id = ?" it scans the pkey and filters instead.
    cross join lateral (
      select f.id as first_id from images f where (f.bundle_id, f.id) >= (b.id, 0) order by f.bundle_id, f.id limit 1
    ) f
    order by x.id - f.first_id, x.id
    limit ${CANDIDATES}`.execute(db);
  return result.rows.map((r) => r.id);
}

/**
 * Try to take one candidate: lock its image row without waiting (a concurrent request or vote holding
 * it means "take the next one"), then re-check, with a fresh snapshot, that it is still open.
 */
export async function tryClaim(
  tx: Transaction<DB>,
  imageId: string,
  userId: string,
  votesRequired: number,
  sharing: Sharing,
) {
  const locked = await tx
    .selectFrom('images')
    .select('id')
    .where('id', '=', imageId)
    .forNoKeyUpdate()
    .skipLocked()
    .executeTakeFirst();
  if (!locked) return 'locked' as const;
  const still = await tx
    .selectFrom('images as i')
    .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
    .select('i.id')
    .where('i.id', '=', imageId)
    .where(openFor(userId, votesRequired, sharing))
    .executeTakeFirst();
  return still ? ('claimed' as const) : ('closed' as const);
}

/** Reserve (or extend) the caller's lease on an image; expired leases of the caller are dropped. */
export async function takeLease(tx: Transaction<DB>, imageId: string, userId: string): Promise<void> {
  await tx
    .deleteFrom('queue_leases')
    .where('user_id', '=', userId)
    .where('expires_at', '<=', sql<Date>`now()`)
    .execute();
  const expires = sql<Date>`now() + make_interval(mins => ${LEASE_MINUTES})`;
  await tx
    .insertInto('queue_leases')
    .values({ image_id: imageId, user_id: userId, expires_at: expires })
    .onConflict((oc) => oc.columns(['image_id', 'user_id']).doUpdateSet({ expires_at: expires }))
    .execute();
}

/**
 * The labeling page's progress: votes the expert cast today (UTC, each image once, re-votes included only
 * once) and images still open for them — they need votes and the expert has not voted on them (leases
 * of others are ignored: a leased image still counts as work left).
 */
export async function progressFor(
  db: Exec,
  userId: string,
  votesRequired: number,
): Promise<{ votedToday: number; remaining: number }> {
  const today = await db
    .selectFrom('votes')
    .select(sql<string>`count(distinct image_id)`.as('n'))
    .where('user_id', '=', userId)
    .where('created_at', '>=', sql<Date>`date_trunc('day', now() at time zone 'utc') at time zone 'utc'`)
    .executeTakeFirstOrThrow();
  const left = await db
    .selectFrom('images as i')
    .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
    .select(sql<string>`count(*)`.as('n'))
    .where(
      sql<boolean>`${needed(votesRequired)} > 0
        and not exists (select 1 from votes v where v.image_id = i.id and v.user_id = ${userId})`,
    )
    .executeTakeFirstOrThrow();
  return { votedToday: Number(today.n), remaining: Number(left.n) };
}
