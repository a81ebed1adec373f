import { sql } from 'kysely';
import type { Exec } from '../../../lib/db/schema.ts';

/**
 * Per bundle: included images, labeled (any vote or resolution), resolved, and resolved verdict counts — all over
 * included images — and the excluded images apart.
 */
export async function bundleSummaries(db: Exec) {
  const rows = await db
    .selectFrom('bundles as b')
    .leftJoin('images as i', 'i.bundle_id', 'b.id')
    // Excluded images keep their consensus row (their votes stay), so they are kept out of the join itself.
    .leftJoin('image_consensus as c', (j) => j.onRef('c.image_id', '=', 'i.id').on('i.excluded', '=', false))
    .select([
      'b.name',
      sql<string>`count(i.id) filter (where not i.excluded)`.as('images'),
      sql<string>`count(i.id) filter (where i.excluded)`.as('excluded'),
      sql<string>`count(c.image_id) filter (where c.status <> 'unlabeled')`.as('labeled'),
      sql<string>`count(c.image_id) filter (where c.status = 'resolved')`.as('resolved'),
      sql<string>`count(c.image_id) filter (where c.status = 'resolved' and c.verdict = 'normal')`.as(
        'normal',
      ),
      sql<string>`count(c.image_id) filter (where c.status = 'resolved' and c.verdict = 'abnormal')`.as(
        'abnormal',
      ),
    ])
    .groupBy('b.name')
    .orderBy('b.name')
    .execute();
  return rows;
}
