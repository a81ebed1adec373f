import type { Exec } from '../../../lib/db/schema.ts';

/** Resolved included images (any method) with their consensus verdict, optionally of one bundle. */
export function resolvedVerdicts(db: Exec, bundle?: string) {
  let q = db
    .selectFrom('image_consensus as c')
    .innerJoin('images as i', 'i.id', 'c.image_id')
    .select(['c.image_id', 'c.verdict'])
    .where('c.status', '=', 'resolved')
    .where('i.excluded', '=', false);
  if (bundle !== undefined) {
    q = q.innerJoin('bundles as b', 'b.id', 'i.bundle_id').where('b.name', '=', bundle);
  }
  return q.execute();
}

export function usernames(db: Exec, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('users').select(['id', 'username']).where('id', 'in', ids).execute();
}

export async function bundleExists(db: Exec, name: string): Promise<boolean> {
  return (
    (await db.selectFrom('bundles').select('id').where('name', '=', name).executeTakeFirst()) !== undefined
  );
}
