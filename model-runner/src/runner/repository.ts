import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { DB, Exec, ImageStatus, StoredBounds, Verdict } from '../../../lib/db/schema.ts';
import { boundsInForce } from '../../../lib/dataset/bounds.ts';
import { SETTINGS_DEFAULTS } from '../../../lib/settings.ts';
import {
  conversionOf,
  localBounds,
  type Conversion,
  type Method,
  type StretchBounds,
} from '../../../lib/imaging/conversions.ts';

/** What the runner reads and writes. Functions take the executor first, so a caller can pass a transaction. */

export interface ImageRef {
  id: string;
  sha256: string;
  bundle: string;
  bitDepth: 8 | 16;
  p0_01: number;
  p99_99: number;
}

export interface LabeledImage extends ImageRef {
  verdict: Verdict;
  anomalies: string[];
}

const imageColumns = [
  'i.id',
  'i.sha256',
  'b.name as bundle',
  'i.bit_depth as bitDepth',
  'i.p0_01',
  'i.p99_99',
] as const;

/** Included images with a resolved consensus label (the training set), in id order; excluded ones never train. */
export async function resolvedImages(db: Exec): Promise<LabeledImage[]> {
  const rows = await db
    .selectFrom('image_consensus as c')
    .innerJoin('images as i', 'i.id', 'c.image_id')
    .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
    .select([...imageColumns, 'c.verdict', 'c.anomalies'])
    .where('c.status', '=', 'resolved')
    .where('i.excluded', '=', false)
    .orderBy('i.id')
    .execute();
  return rows.map((r) => ({ ...r, verdict: r.verdict!, anomalies: [...r.anomalies].sort() }));
}

/** Included images by id (all included ones when `ids` is absent), in id order: excluded images are not scored. */
export async function imagesById(db: Exec, ids?: readonly string[]): Promise<ImageRef[]> {
  let q = db
    .selectFrom('images as i')
    .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
    .select(imageColumns)
    .where('i.excluded', '=', false)
    .orderBy('i.id');
  if (ids) {
    if (ids.length === 0) return [];
    q = q.where('i.id', 'in', ids as string[]);
  }
  return q.execute();
}

/**
 * Hash of a label snapshot: sha256 over "image sha256 verdict anomalies" lines sorted by image sha256, so
 * the same labels give the same hash whatever the ids or order.
 */
export function labelSnapshotHash(labels: readonly LabeledImage[]): string {
  const lines = labels.map((l) => `${l.sha256} ${l.verdict} ${l.anomalies.join(',')}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Method 2's dataset-wide bounds in force per bit depth (paper 2.3; pinned or from included images: lib/dataset/bounds.ts). */
export const datasetBounds = boundsInForce;

/** The conversion of one image for a method (paper 2.3). */
export function conversionFor(
  method: Method,
  image: ImageRef,
  bounds: Map<8 | 16, StretchBounds>,
): Conversion {
  return conversionOf(method, {
    local: localBounds(image),
    global: () => {
      const g = bounds.get(image.bitDepth);
      if (!g) throw new Error(`no dataset bounds for ${image.bitDepth}-bit images`);
      return g;
    },
  });
}

export interface ModelVersionRow {
  id: string;
  created_at: Date;
  method: Method;
  backbone_hash: string;
  backbone_kind: 'torchvision' | 'untrained' | 'custom';
  input_height: number;
  input_width: number;
  settings: unknown;
  label_snapshot_hash: string;
  trained_on_images: number;
  trained_on_bundles: number;
  cross_validation: unknown;
  head_weights: Buffer;
  job_id: string | null;
  /** What the head saw: 'paper' | 'evidence' | 'fused' (evidence/features.ts). */
  features: string;
  /** EVIDENCE_VERSION of the evidence it saw; null for 'paper'. */
  evidence_version: string | null;
  /** Method 2's bounds in force when it was trained (null: trained before they were recorded). */
  global_bounds: StoredBounds[] | null;
}

/** The active model version (latest activation), or undefined before the first. */
export async function activeVersion(db: Exec): Promise<ModelVersionRow | undefined> {
  const a = await db.selectFrom('active_model').select('model_version').executeTakeFirst();
  return a ? findVersion(db, a.model_version) : undefined;
}

/** The latest version whose head saw `features` on evidence `evidenceVersion` (null: no evidence). */
export async function latestVersionWith(
  db: Exec,
  features: string,
  evidenceVersion: string | null,
): Promise<ModelVersionRow | undefined> {
  let q = db.selectFrom('model_versions').selectAll().where('features', '=', features);
  q = evidenceVersion === null ? q : q.where('evidence_version', '=', evidenceVersion);
  return (await q.orderBy('id', 'desc').limit(1).executeTakeFirst()) as ModelVersionRow | undefined;
}

export async function findVersion(db: Exec, id: string): Promise<ModelVersionRow | undefined> {
  return (await db.selectFrom('model_versions').selectAll().where('id', '=', id).executeTakeFirst()) as
    ModelVersionRow | undefined;
}

export async function insertVersion(
  tx: Transaction<DB>,
  v: Omit<
    ModelVersionRow,
    'id' | 'created_at' | 'settings' | 'cross_validation' | 'features' | 'global_bounds'
  > & {
    features?: string;
    global_bounds?: StoredBounds[] | null;
    settings: unknown;
    cross_validation: unknown;
  },
): Promise<string> {
  const row = await tx
    .insertInto('model_versions')
    .values({
      ...v,
      settings: JSON.stringify(v.settings),
      global_bounds: v.global_bounds ? JSON.stringify(v.global_bounds) : null,
      cross_validation: v.cross_validation === null ? null : JSON.stringify(v.cross_validation),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function insertActivation(
  tx: Transaction<DB>,
  modelVersion: string,
  reason: string,
  activatedBy: string | null = null,
): Promise<void> {
  await tx
    .insertInto('model_activations')
    .values({ model_version: modelVersion, reason, activated_by: activatedBy })
    .execute();
}

export interface PredictionRow {
  image_id: string;
  p_abnormal: number;
  priority: number;
  reason: string;
  /**
   * P(type) per anomaly type, `[{code, p}]` in the paper's order (`GET /api/images/:id/prediction`); absent when
   * only the priority is recomputed, which then leaves the stored ones as they are.
   */
  anomalies?: { code: string; p: number }[];
}

/** Upsert predictions of a version, 1000 rows a statement (a retried score job overwrites its own rows). */
export async function upsertPredictions(db: Exec, modelVersion: string, rows: readonly PredictionRow[]) {
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000);
    const withTypes = chunk.some((r) => r.anomalies);
    await db
      .insertInto('predictions')
      .values(
        chunk.map(({ anomalies, ...r }) => ({
          model_version: modelVersion,
          ...r,
          ...(withTypes ? { anomalies: JSON.stringify(anomalies ?? []) } : {}),
        })),
      )
      .onConflict((oc) =>
        oc.columns(['model_version', 'image_id']).doUpdateSet((eb) => ({
          p_abnormal: eb.ref('excluded.p_abnormal'),
          priority: eb.ref('excluded.priority'),
          reason: eb.ref('excluded.reason'),
          ...(withTypes ? { anomalies: eb.ref('excluded.anomalies') } : {}),
        })),
      )
      .execute();
  }
}

export interface ConsensusState {
  image_id: string;
  status: ImageStatus;
  verdict: Verdict | null;
  normal_votes: number;
  abnormal_votes: number;
}

/** Consensus rows of some images (all when `ids` is absent); images without a row are unlabeled. */
export async function consensusOf(db: Exec, ids?: readonly string[]): Promise<Map<string, ConsensusState>> {
  let q = db
    .selectFrom('image_consensus')
    .select(['image_id', 'status', 'verdict', 'normal_votes', 'abnormal_votes']);
  if (ids) {
    if (ids.length === 0) return new Map();
    q = q.where('image_id', 'in', ids as string[]);
  }
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.image_id, r]));
}

/** Resolved labels of included images per bundle (the coverage term of the priority). */
export async function labeledPerBundle(db: Exec): Promise<[string, number][]> {
  const rows = await db
    .selectFrom('bundles as b')
    .leftJoin('images as i', (j) => j.onRef('i.bundle_id', '=', 'b.id').on('i.excluded', '=', false))
    .leftJoin('image_consensus as c', (j) =>
      j.onRef('c.image_id', '=', 'i.id').on('c.status', '=', 'resolved'),
    )
    .select(['b.name', (eb) => eb.fn.count<string>('c.image_id').as('n')])
    .groupBy('b.name')
    .execute();
  return rows.map((r) => [r.name, Number(r.n)]);
}

/** The `retrainEvery` setting (issue 7), as the API's settings service stores it; its default from lib/settings.ts. */
export async function retrainEvery(db: Exec): Promise<number> {
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', 'retrainEvery')
    .executeTakeFirst();
  const v = row?.value;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : SETTINGS_DEFAULTS.retrainEvery;
}

/** Images changed since `since`: consensus rows updated after it (votes, resolutions). */
export async function consensusChangedSince(db: Exec, since: Date): Promise<string[]> {
  const rows = await db
    .selectFrom('image_consensus')
    .select('image_id')
    .where('updated_at', '>', since)
    .execute();
  return rows.map((r) => r.image_id);
}

export async function now(db: Exec): Promise<Date> {
  const r = await sql<{ now: Date }>`select now() as now`.execute(db);
  return r.rows[0].now;
}

/** At most `limit` included images without an evidence vector of `version`, oldest first (the evidence job's batch). */
export async function imagesWithoutEvidence(db: Exec, version: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('images as i')
    .select('i.id')
    .where('i.excluded', '=', false) // excluded images are given no evidence (imagesById)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('image_evidence as e')
            .select(sql`1`.as('one'))
            .whereRef('e.sha256', '=', 'i.sha256')
            .where('e.version', '=', version),
        ),
      ),
    )
    .orderBy('i.id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** At most `limit` included images that model version `modelVersion` has not scored, oldest first. */
export async function imagesUnscoredBy(db: Exec, modelVersion: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('images as i')
    .select('i.id')
    .where('i.excluded', '=', false) // excluded images are neither embedded nor scored (imagesById)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('predictions as p')
            .select(sql`1`.as('one'))
            .whereRef('p.image_id', '=', 'i.id')
            .where('p.model_version', '=', modelVersion),
        ),
      ),
    )
    .orderBy('i.id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** At most `limit` included images without the unflipped embedding of this backbone, input size and method. */
export async function imagesNotEmbedded(
  db: Exec,
  key: { backboneHash: string; inputSize: string; method: Method },
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom('images as i')
    .select('i.id')
    .where('i.excluded', '=', false)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('embeddings as e')
            .select(sql`1`.as('one'))
            .whereRef('e.sha256', '=', 'i.sha256')
            .where('e.backbone_hash', '=', key.backboneHash)
            .where('e.input_size', '=', key.inputSize)
            .where('e.method', '=', key.method)
            .where('e.flip', '=', 0),
        ),
      ),
    )
    .orderBy('i.id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Images resolved after `since` (all resolved images without it). Counted by `resolved_at`, which keeps its time
 * while a decision stands (a confirming late vote does not move it), not by `updated_at`, which every vote moves.
 */
export async function resolvedSince(db: Exec, since: Date | undefined): Promise<number> {
  let q = db
    .selectFrom('image_consensus')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'resolved');
  if (since) q = q.where('resolved_at', '>', since);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Images whose consensus is normal (what the unusualness model is fitted on once there are enough). */
export async function consensusNormalCount(db: Exec): Promise<number> {
  const row = await db
    .selectFrom('image_consensus')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'resolved')
    .where('verdict', '=', 'normal')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The active version's id and when it was created, or undefined before the first model. */
export function activeVersionCreated(db: Exec) {
  return db
    .selectFrom('active_model as a')
    .innerJoin('model_versions as v', 'v.id', 'a.model_version')
    .select(['a.model_version', 'v.created_at'])
    .executeTakeFirst();
}

/** The stored P(abnormal) of these images under `modelVersion`, with each image's bundle name. */
export function storedPredictions(db: Exec, modelVersion: string, ids: readonly string[]) {
  return db
    .selectFrom('predictions as p')
    .innerJoin('images as i', 'i.id', 'p.image_id')
    .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
    .select(['p.image_id', 'p.p_abnormal', 'b.name as bundle'])
    .where('p.model_version', '=', modelVersion)
    .where('p.image_id', 'in', ids)
    .execute();
}
