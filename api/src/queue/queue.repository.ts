import { sql, type RawBuilder } from 'kysely';
import type { Exec } from '../../../lib/db/schema.ts';
import { PREPARED } from '../../../lib/db/prepared.ts';

/** A value sent as a parameter, or, in the claim function's body, the name of a PL/pgSQL argument. */
type Operand = string | number | RawBuilder<unknown>;

/** How long an image handed out by the queue stays reserved for the expert who got it. */
export const LEASE_MINUTES = 10;

/** How many candidates each ordering offers; the first one not locked by a concurrent request wins. */
const CANDIDATES = 24;
/** Fresh candidates per bundle (several, so concurrent experts do not all collide on each bundle's first). */
const PER_BUNDLE = 3;

/**
 * The votes an image still needs: the stored `votes_needed` once votes exist; `votesRequired` for an
 * image nobody has voted on yet (whether or not it has a consensus row), so a settings change applies
 * to fresh images at once.
 */
const needed = (votesRequired: Operand) =>
  sql<number>`case when c.image_id is null or c.status = 'unlabeled' then ${votesRequired} else c.votes_needed end`;

/**
 * Fewer live leases of other experts on image `i` than the votes it still needs (`need`), so no more
 * copies go out than votes can count.
 */
function underLeased(userId: Operand, need: RawBuilder<number>) {
  return sql<boolean>`(select count(*) from queue_leases l
    where l.image_id = i.id and l.user_id <> ${userId} and l.expires_at > now()) < ${need}`;
}

/**
 * "Open for this expert": image `i` (with its consensus row `c`) is not excluded, still needs votes, the expert
 * has not voted on it, and it is not leased to as many other experts as the votes it still needs.
 *
 * The claim function `platina_claim` (migrations/…_queue_claim.ts) re-checks the same predicate in
 * PostgreSQL; queue/claim-function.test.ts fails when the two texts differ, so a change here needs a
 * migration that re-creates the function.
 */
export function openFor(userId: Operand, votesRequired: Operand) {
  const need = needed(votesRequired);
  return sql<boolean>`(
    not i.excluded
    and ${need} > 0
    and not exists (select 1 from votes v where v.image_id = i.id and v.user_id = ${userId})
    and ${underLeased(userId, need)}
  )`;
}

/**
 * "Open for this expert" for a fresh image (images.fresh): it needs `votesRequired` votes, and nobody
 * has voted on it — fresh is true exactly while the consensus is unlabeled, which no vote leaves — so
 * neither has the expert. Checking the expert's votes anyway costs a walk of all of them per bundle
 * once they have voted on thousands of images (28 ms instead of 1.9 ms at 30 000 votes, measured).
 */
function openFreshFor(userId: string, votesRequired: number) {
  const need = sql<number>`${votesRequired}::int`;
  return sql<boolean>`(not i.excluded and ${need} > 0 and ${underLeased(userId, need)})`;
}

/** The orderings of the queue, best first; each a list of image ids that are open for the expert. */
export interface Candidates {
  /** The expert's own live lease (a reload gets the same image). */
  own: string[];
  /** 1. With a model: open images by the active model's priority (issue 7), highest first. */
  byModel: string[];
  /**
   * 2. Started images (some votes, not decided): finishing them yields consensus labels sooner than
   * opening new ones. Driven by the (status, image_id) index; there are few such images at any time.
   */
  started: string[];
  /**
   * 3. Before the first model: fresh images by unusualness from zero labels (image_unusualness, written by the
   * runner from the evidence alone; issue 13), most unusual first. Empty once a model is active (its priorities
   * carry unusualness as one term) and for images the runner has not scored yet.
   */
  byUnusualness: string[];
  /** 4. Fresh images, spread across bundles, then oldest first (see below). */
  fresh: string[];
  /** Live leases of OTHER experts per image id, to prefer images nobody else is looking at. */
  leasedByOthers: Map<string, number>;
}

/**
 * Every ordering of the queue in ONE round trip (each an ARRAY(subquery), which keeps its ORDER BY).
 *
 * Fresh images: for each bundle its oldest open fresh images (a walk of the partial index of fresh
 * images, images_fresh_idx, which holds no labeled image to skip, so it stops at the first hits), and
 * among bundles the one least far into its own upload order, measured as the distance in ids from the
 * bundle's first image. That is exact round-robin when bundles are
 * uploaded one after another, and still fair when uploads interleave (every bundle's distances grow at
 * the same rate); it avoids counting labeled images per bundle on every request, which costs a scan of
 * the whole table.
 */
export async function candidates(
  db: Exec,
  userId: string,
  votesRequired: number,
  modelVersion: string | null,
): Promise<Candidates> {
  // Limits as literals, not parameters: the statement runs on a generic plan (queue.service), which
  // for an unknown LIMIT assumes a tenth of the rows and picks scans that take 140–280 ms, not 1 ms.
  const limit = sql.lit(CANDIDATES);
  const perBundle = sql.lit(PER_BUNDLE);
  const open = openFor(userId, votesRequired);
  const openFresh = openFreshFor(userId, votesRequired);
  const result = await sql<{
    own: string[];
    by_model: string[];
    started: string[];
    by_unusualness: string[];
    fresh: string[];
    leased: Record<string, number> | null;
  }>`${PREPARED}
    select
      array(
        select i.id from queue_leases ql
        join images i on i.id = ql.image_id
        left join image_consensus c on c.image_id = i.id
        where ql.user_id = ${userId} and ql.expires_at > now() and ${open}
        order by ql.expires_at desc limit 1
      )::text[] as own,
      array(
        select i.id from predictions p
        join images i on i.id = p.image_id
        left join image_consensus c on c.image_id = i.id
        where p.model_version = ${modelVersion} and ${open}
        order by p.priority desc, i.id limit ${limit}
      )::text[] as by_model,
      array(
        select i.id from image_consensus c
        join images i on i.id = c.image_id
        where c.status = 'pending' and ${open}
        order by c.image_id limit ${limit}
      )::text[] as started,
      -- A fresh image only (the partial index's predicate): the ordering before any model.
      array(
        select i.id from image_unusualness u
        join images i on i.id = u.image_id
        where ${modelVersion}::bigint is null and i.fresh and ${openFresh}
        order by u.score desc, i.id limit ${limit}
      )::text[] as by_unusualness,
      array(
        select x.id
        from bundles b
        cross join lateral (
          select i.id
          from images i
          where i.bundle_id = b.id and i.fresh and ${openFresh}
          order by i.id
          limit ${perBundle}
        ) x
        -- The bundle's first image: a row comparison the pkey cannot serve, so the planner walks
        -- images (bundle_id, id) — with "min(id) where bundle_id = ?" it scans the pkey and filters instead.
        cross join lateral (
          select f.id as first_id from images f where (f.bundle_id, f.id) >= (b.id, 0)
          order by f.bundle_id, f.id limit 1
        ) f
        order by x.id - f.first_id, x.id
        limit ${limit}
      )::text[] as fresh,
      (select json_object_agg(image_id, n) from (
         select image_id, count(*) as n from queue_leases
         where user_id <> ${userId} and expires_at > now() group by image_id) l
      ) as leased`.execute(db);
  const row = result.rows[0];
  return {
    own: row.own,
    byModel: row.by_model,
    started: row.started,
    byUnusualness: row.by_unusualness,
    fresh: row.fresh,
    leasedByOthers: new Map(Object.entries(row.leased ?? {}).map(([id, n]) => [id, Number(n)])),
  };
}

/**
 * The lease of the first of `ids` (in their order) that no concurrent transaction holds and that is still
 * open for the expert, as a scalar subquery for the statement that reads the image: one call of
 * `platina_claim` (migrations/…_queue_claim.ts) locks each candidate without waiting (SKIP LOCKED),
 * re-checks it in a snapshot taken after the lock, and leases it, dropping the expert's expired leases on
 * other images. It yields the leased image's id, or null when every candidate was held or had closed.
 */
export function claimFirstOpen(
  ids: string[],
  userId: string,
  votesRequired: number,
): RawBuilder<string | null> {
  return sql<
    string | null
  >`select platina_claim(${userId}::bigint, ${ids}::bigint[], ${votesRequired}::int, ${LEASE_MINUTES}::int)`;
}

/**
 * The labeling page's progress: votes the expert cast today (UTC, each image once, re-votes included only
 * once) and images still open for them — not excluded, they need votes and the expert has not voted on them
 * (leases of others are ignored: a leased image still counts as work left).
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
      sql<boolean>`not i.excluded and ${needed(votesRequired)} > 0
        and not exists (select 1 from votes v where v.image_id = i.id and v.user_id = ${userId})`,
    )
    .executeTakeFirstOrThrow();
  return { votedToday: Number(today.n), remaining: Number(left.n) };
}
