import type { Exec } from '../../../lib/db/schema.ts';

const SUMMARY = [
  'id',
  'created_at',
  'method',
  'backbone_hash',
  'backbone_kind',
  'input_height',
  'input_width',
  'settings',
  'label_snapshot_hash',
  'trained_on_images',
  'trained_on_bundles',
  'cross_validation',
  'job_id',
  'features',
  'evidence_version',
  'global_bounds',
] as const;

/** Every model version, newest first, without the weights. */
export function listVersions(db: Exec) {
  return db.selectFrom('model_versions').select(SUMMARY).orderBy('id', 'desc').execute();
}

export function findVersion(db: Exec, id: string) {
  return db
    .selectFrom('model_versions')
    .select([...SUMMARY, 'head_weights'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The active version: the latest activation (append-only history), with when and why. */
export function activeActivation(db: Exec) {
  return db.selectFrom('active_model').select(['model_version', 'reason', 'created_at']).executeTakeFirst();
}

/** The active model version's id, or null before the first model. */
export async function activeModelVersion(db: Exec): Promise<string | null> {
  return (await activeActivation(db))?.model_version ?? null;
}

export function predictionOf(db: Exec, imageId: string, modelVersion: string) {
  return db
    .selectFrom('predictions')
    .select(['model_version', 'p_abnormal', 'priority', 'reason', 'anomalies'])
    .where('image_id', '=', imageId)
    .where('model_version', '=', modelVersion)
    .executeTakeFirst();
}

export async function imageExists(db: Exec, id: string): Promise<boolean> {
  return (await db.selectFrom('images').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}
