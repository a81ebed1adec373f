import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';

type Exec = Kysely<DB> | Transaction<DB>;

/**
 * Per bit depth: how many images, the smallest 0.01th and the largest 99.99th percentile. These two
 * extremes are all the paper's global-bounds procedure needs (section 2.3), so the bounds always reflect
 * every image in the database: they are recomputed from this aggregate on every use, never stored.
 */
export async function percentileExtremes(db: Exec) {
  const rows = await db
    .selectFrom('images')
    .select([
      'bit_depth',
      (eb) => eb.fn.countAll<string>().as('images'),
      (eb) => eb.fn.min('p0_01').as('lo'),
      (eb) => eb.fn.max('p99_99').as('hi'),
      (eb) => eb.fn.max('id').as('lastId'),
    ])
    .groupBy('bit_depth')
    .execute();
  return rows.map((r) => ({
    bitDepth: r.bit_depth,
    images: Number(r.images),
    lo: r.lo,
    hi: r.hi,
    lastId: String(r.lastId),
  }));
}

/** The display histograms of all images of one bit depth, summed bin by bin. */
export async function summedHistogram(db: Exec, bitDepth: 8 | 16): Promise<number[]> {
  const { rows } = await sql<{ bin: number; count: string }>`
    select h.idx::int as bin, sum(h.v)::bigint as count
    from images i cross join lateral unnest(i.histogram) with ordinality as h(v, idx)
    where i.bit_depth = ${bitDepth}
    group by h.idx
    order by h.idx`.execute(db);
  const counts: number[] = [];
  for (const r of rows) counts[r.bin - 1] = Number(r.count);
  return Array.from(counts, (c) => c ?? 0);
}
