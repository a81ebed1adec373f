import { sql, type Transaction } from 'kysely';
import type { DB, Exec, Verdict } from '../../../lib/db/schema.ts';

/** The settings key of the share of an expert's queue that references take (0 = none). */
export const RATE_KEY = 'referenceRate';

/** The image with its consensus, its row locked so a mark and an exclusion or resolution do not interleave. */
export function lockImage(tx: Transaction<DB>, imageId: string) {
  return tx
    .selectFrom('images as i')
    .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
    .select(['i.id', 'i.excluded', 'c.status', 'c.verdict', 'c.anomalies'])
    .where('i.id', '=', imageId)
    .forUpdate('i')
    .executeTakeFirst();
}

/** The latest mark or unmark of an image (undefined: never marked). */
export function latestMark(db: Exec, imageId: string) {
  return db
    .selectFrom('reference_marks')
    .select(['action', 'verdict', 'anomalies'])
    .where('image_id', '=', imageId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The verdict the image's latest `mark` fixed (null: never marked). */
export async function latestAnswerKey(db: Exec, imageId: string): Promise<Verdict | null> {
  const r = await db
    .selectFrom('reference_marks')
    .select('verdict')
    .where('image_id', '=', imageId)
    .where('action', '=', 'mark')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r?.verdict ?? null;
}

export function insertMark(
  tx: Transaction<DB>,
  m: {
    imageId: string;
    userId: string;
    action: 'mark' | 'unmark';
    verdict: Verdict | null;
    anomalies: string[];
  },
) {
  return tx
    .insertInto('reference_marks')
    .values({
      image_id: m.imageId,
      user_id: m.userId,
      action: m.action,
      verdict: m.verdict,
      anomalies: m.anomalies,
    })
    .execute();
}

/** Current references: images whose latest mark row is a `mark`, with who marked them and when. */
function currentMarks(db: Exec) {
  return db
    .selectFrom('reference_marks as m')
    .select(['m.image_id', 'm.user_id', 'm.action', 'm.verdict', 'm.anomalies', 'm.created_at'])
    .distinctOn('m.image_id')
    .orderBy('m.image_id')
    .orderBy('m.id', 'desc')
    .as('cur');
}

/** Every current reference with its image, marker and how often experts answered it (and got it right). */
export function listReferences(db: Exec) {
  return db
    .selectFrom(currentMarks(db))
    .innerJoin('images as i', 'i.id', 'cur.image_id')
    .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
    .innerJoin('users as u', 'u.id', 'cur.user_id')
    .select((eb) => [
      'cur.image_id',
      'i.name',
      'b.name as bundle',
      'i.excluded',
      'cur.verdict',
      'cur.anomalies',
      'cur.created_at',
      'u.username',
      eb
        .selectFrom('reference_answers as a')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('a.image_id', '=', 'cur.image_id')
        .as('answers'),
      eb
        .selectFrom('reference_answers as a')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('a.image_id', '=', 'cur.image_id')
        .whereRef('a.verdict', '=', 'a.expected_verdict')
        .as('correct'),
    ])
    .where('cur.action', '=', 'mark')
    .orderBy('cur.image_id')
    .execute();
}

/** The expert's open offers whose image is still an included reference, oldest first. */
export async function openOffer(db: Exec, userId: string, exclude: readonly string[]) {
  let q = db
    .selectFrom('reference_offers as o')
    .innerJoin('images as i', 'i.id', 'o.image_id')
    .select('o.image_id')
    .where('o.user_id', '=', userId)
    .where('i.excluded', '=', false)
    .where(
      sql<boolean>`(select m.action from reference_marks m where m.image_id = o.image_id order by m.id desc limit 1) = 'mark'`,
    )
    .orderBy('o.offered_at')
    .limit(1);
  if (exclude.length) q = q.where('o.image_id', 'not in', exclude);
  return (await q.executeTakeFirst())?.image_id ?? null;
}

/**
 * A current, included reference the expert has neither answered nor been offered, in an order of its own for
 * each expert (a hash of image and expert: spread, yet stable for tests), or null.
 */
export async function freshReferenceFor(db: Exec, userId: string, exclude: readonly string[]) {
  let q = db
    .selectFrom(currentMarks(db))
    .innerJoin('images as i', 'i.id', 'cur.image_id')
    .select('cur.image_id')
    .where('cur.action', '=', 'mark')
    .where('i.excluded', '=', false)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('reference_answers as a')
            .select('a.id')
            .whereRef('a.image_id', '=', 'cur.image_id')
            .where('a.user_id', '=', userId),
        ),
      ),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('reference_offers as o')
            .select('o.image_id')
            .whereRef('o.image_id', '=', 'cur.image_id')
            .where('o.user_id', '=', userId),
        ),
      ),
    )
    .orderBy(sql`md5(cur.image_id::text || ':' || ${userId})`)
    .limit(1);
  if (exclude.length) q = q.where('cur.image_id', 'not in', exclude);
  return (await q.executeTakeFirst())?.image_id ?? null;
}

export function insertOffer(db: Exec, imageId: string, userId: string) {
  return db
    .insertInto('reference_offers')
    .values({ image_id: imageId, user_id: userId })
    .onConflict((oc) => oc.columns(['user_id', 'image_id']).doNothing())
    .execute();
}

/** Takes the expert's offer of the image (deletes it), if there is one: the vote is then an answer. */
export async function takeOffer(db: Exec, userId: string, imageId: string): Promise<boolean> {
  const r = await db
    .deleteFrom('reference_offers')
    .where('user_id', '=', userId)
    .where('image_id', '=', imageId)
    .returning('image_id')
    .executeTakeFirst();
  return r !== undefined;
}

export function insertAnswer(
  db: Exec,
  a: { imageId: string; userId: string; verdict: Verdict; anomalies: string[]; expected: Verdict },
) {
  return db
    .insertInto('reference_answers')
    .values({
      image_id: a.imageId,
      user_id: a.userId,
      verdict: a.verdict,
      anomalies: a.anomalies,
      expected_verdict: a.expected,
    })
    .returning(['image_id', 'verdict', 'anomalies', 'created_at'])
    .executeTakeFirstOrThrow();
}

/** How many images the expert has answered so far, votes and reference answers: the draw's counter. */
export async function workDone(db: Exec, userId: string): Promise<number> {
  const r = await sql<{ n: number }>`select
      (select count(distinct image_id) from votes where user_id = ${userId})::int
    + (select count(*) from reference_answers where user_id = ${userId})::int as n`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** Answers per expert and UTC day: the accuracy-over-time series. */
export function answersByExpertAndDay(db: Exec) {
  return db
    .selectFrom('reference_answers as a')
    .innerJoin('users as u', 'u.id', 'a.user_id')
    .select([
      'a.user_id',
      'u.username',
      sql<string>`to_char(a.created_at at time zone 'utc', 'YYYY-MM-DD')`.as('day'),
      sql<number>`count(*)::int`.as('answered'),
      sql<number>`(count(*) filter (where a.verdict = a.expected_verdict))::int`.as('correct'),
    ])
    .groupBy(['a.user_id', 'u.username', 'day'])
    .orderBy('a.user_id')
    .orderBy('day')
    .execute();
}
