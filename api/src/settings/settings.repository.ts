import { sql, type Transaction } from 'kysely';
import type { DB, Exec } from '../../../lib/db/schema.ts';

/**
 * The settings table as one JSON text value, keys in order: read with other data in one statement, and
 * compared as a whole by the optimistic vote (consensus.repository).
 */
export const SETTINGS_TEXT = sql<
  string | null
>`(select json_object_agg(key, value order by key)::text from settings)`;

/** SETTINGS_TEXT as read back: key → JSON value, like readSettingRows. */
export function settingRowsFromText(text: string | null): Map<string, unknown> {
  return new Map(Object.entries(text ? (JSON.parse(text) as object) : {}));
}

/** Every stored setting as key → JSON value (absent keys take their defaults in the service). */
export async function readSettingRows(db: Exec): Promise<Map<string, unknown>> {
  const rows = await db.selectFrom('settings').select(['key', 'value']).execute();
  return new Map(rows.map((r) => [r.key, r.value]));
}

export async function writeSetting(
  db: Transaction<DB>,
  key: string,
  value: unknown,
  userId: string,
): Promise<void> {
  const json = JSON.stringify(value);
  await db
    .insertInto('settings')
    .values({ key, value: json, updated_by: userId })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({ value: json, updated_by: userId, updated_at: new Date() }),
    )
    .execute();
}
