import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';

type Exec = Kysely<DB> | Transaction<DB>;

/** Per bundle: image count, labeled (any vote or resolution), resolved, and resolved verdict counts. */
export async function bundleSummaries(db: Exec) {
  const rows = await db
    .selectFrom('bundles as b')
    .leftJoin('images as i', 'i.bundle_id', 'b.id')
    .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
    .select([
      'b.name',
      sql<string>`count(i.id)`.as('images'),
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
