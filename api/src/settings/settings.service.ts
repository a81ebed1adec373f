import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';
import { PREPARED } from '../../../lib/db/prepared.ts';
import { settingsProblem } from '../../../lib/consensus/rule.ts';
import type { Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { recomputeAllConsensus } from '../consensus/consensus.service.ts';
import * as repo from './settings.repository.ts';
import { settingsFromRows } from '../../../lib/settings.ts';
import type { Settings, SettingsPatch } from '../../../lib/api-types/settings.ts';

export type { Settings };

// Defaults and the row reading live in lib/settings.ts (the runner reads them too); re-exported for the API.
export { settingsFromRows, SETTINGS_DEFAULTS } from '../../../lib/settings.ts';

/** Current settings, defaults filled in. Pass the transaction when the caller acts on them. */
export async function getSettings(db: Kysely<DB> | Transaction<DB>): Promise<Settings> {
  return settingsFromRows(await repo.readSettingRows(db));
}

export interface SettingsAndModel {
  settings: Settings;
  /** The active model version; null before the first model. */
  activeModel: string | null;
}

interface SettingsAndModelRow {
  settings: string | null;
  model: string | null;
}

/**
 * The read behind settingsAndActiveModel, for a caller that sends it along with other statements (the
 * queue's claim opens its transaction with it: local-transaction.ts); no parameters.
 */
export const SETTINGS_AND_MODEL = sql<SettingsAndModelRow>`
  select ${repo.SETTINGS_TEXT} as settings,
         (select model_version::text from active_model) as model`;

export function settingsAndModelFromRow(row: SettingsAndModelRow): SettingsAndModel {
  return { settings: settingsFromRows(repo.settingRowsFromText(row.settings)), activeModel: row.model };
}

/**
 * The settings and the active model version (null before the first model), in one round trip: what
 * every hot path that decides what an expert may see (an image, the queue) needs first.
 */
export async function settingsAndActiveModel(db: Kysely<DB>): Promise<SettingsAndModel> {
  const result = await sql<SettingsAndModelRow>`${PREPARED} ${SETTINGS_AND_MODEL}`.execute(db);
  return settingsAndModelFromRow(result.rows[0]!);
}

/**
 * Change some settings (admin). A change of `votesRequired` or `votesMax` recomputes the consensus of
 * every image in the same transaction, so no reader ever sees an image decided under old settings.
 * A `votesRequired` above the stored `votesMax` → 422: send both.
 */
export async function updateSettings(
  services: Services,
  actorId: string,
  patch: SettingsPatch,
): Promise<Settings> {
  return services.db.transaction().execute(async (tx) => {
    // A rule change must not race a vote: SHARE ROW EXCLUSIVE waits for every in-flight vote or resolution to
    // commit and holds new ones until this commits (they then read the new settings). It also
    // serialises concurrent settings changes (SHARE conflicts with the ROW EXCLUSIVE of writers).
    await sql`lock table votes, resolutions, settings in share row exclusive mode`.execute(tx);
    const rows = await repo.readSettingRows(tx);
    const before = settingsFromRows(rows);
    for (const [key, value] of Object.entries(patch)) if (value !== undefined) rows.set(key, value);
    const after = settingsFromRows(rows);
    const problem = settingsProblem(after);
    if (problem)
      throw new AppError(
        'invalid',
        `${problem} (now votesRequired ${after.votesRequired}, votesMax ${after.votesMax})`,
      );
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined) await repo.writeSetting(tx, key, value, actorId);
    }
    if (before.votesRequired !== after.votesRequired || before.votesMax !== after.votesMax) {
      await recomputeAllConsensus(tx, after);
    }
    return after;
  });
}
