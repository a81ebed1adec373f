import { sql } from 'kysely';
import type { Exec, Method, StoredBounds } from '../../../lib/db/schema.ts';

/** The display histograms of all included images of one bit depth, summed bin by bin. */
export async function summedHistogram(db: Exec, bitDepth: 8 | 16): Promise<number[]> {
  const { rows } = await sql<{ bin: number; count: string }>`
    select h.idx::int as bin, sum(h.v)::bigint as count
    from images i cross join lateral unnest(i.histogram) with ordinality as h(v, idx)
    where i.bit_depth = ${bitDepth} and not i.excluded
    group by h.idx
    order by h.idx`.execute(db);
  const counts: number[] = [];
  for (const r of rows) counts[r.bin - 1] = Number(r.count);
  return Array.from(counts, (c) => c ?? 0);
}

/** How many images are excluded. */
export async function excludedCount(db: Exec): Promise<number> {
  const row = await db
    .selectFrom('images')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('excluded', '=', true)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The active model version's method and the bounds it was trained under; undefined before the first model. */
export async function activeModelBounds(
  db: Exec,
): Promise<{ id: string; method: Method; global_bounds: StoredBounds[] | null } | undefined> {
  return db
    .selectFrom('model_versions as v')
    .select(['v.id', 'v.method', 'v.global_bounds'])
    .where('v.id', '=', sql<string>`(select model_version from active_model)`)
    .executeTakeFirst();
}
