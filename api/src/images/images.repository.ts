import { sql, type RawBuilder, type Transaction } from 'kysely';
import { PREPARED } from '../../../lib/db/prepared.ts';
import type { DB, Exec, ImageStatus } from '../../../lib/db/schema.ts';
import { exclusionInForce } from './exclusions.repository.ts';

export interface ImageFilter {
  ids?: string[];
  /**
   * The image whose id this scalar subquery yields, evaluated once (the queue's claim, which leases the
   * image in the same statement that reads it).
   */
  idOf?: RawBuilder<string | null>;
  bundle?: string;
  status?: ImageStatus;
  sha256?: string;
  /** Only excluded (true) or only included (false) images; both when absent. */
  excluded?: boolean;
  /** Only ids greater than this (cursor paging, ascending id order). */
  afterId?: string;
  limit?: number;
}

/**
 * Images with their bundle name, consensus status (`unlabeled` when no vote touched it yet) and the
 * prediction of `modelVersion` (null: none). Ascending id order, which is upload order.
 */
export async function selectImages(db: Exec, filter: ImageFilter, modelVersion: string | null) {
  let q = db
    .selectFrom('images as i')
    .modifyFront(PREPARED) // one image per next-image request: planned once per connection
    .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
    .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
    .leftJoin('predictions as p', (join) =>
      join.onRef('p.image_id', '=', 'i.id').on('p.model_version', '=', modelVersion ?? '0'),
    )
    // Who excluded it and why: the latest exclusion row, looked up only for excluded images.
    .leftJoinLateral(exclusionInForce, (join) => join.on('i.excluded', '=', true))
    .select([
      'i.id',
      'b.name as bundle',
      'i.name',
      'i.sha256',
      'i.byte_size',
      'i.width',
      'i.height',
      'i.bit_depth',
      'i.px_min',
      'i.px_max',
      'i.p0_01',
      'i.p99_99',
      'i.created_at',
      sql<ImageStatus>`coalesce(c.status, 'unlabeled')`.as('status'),
      'p.model_version',
      'p.p_abnormal',
      'x.created_at as excluded_at',
      'x.username as excluded_by',
      'x.reason as excluded_reason',
    ]);
  // One array parameter, not a list: the statement's text does not depend on how many ids.
  if (filter.ids) q = q.where('i.id', '=', sql<string>`any(${filter.ids}::bigint[])`);
  if (filter.idOf) q = q.where('i.id', '=', sql<string>`(${filter.idOf})`);
  if (filter.bundle !== undefined) q = q.where('b.name', '=', filter.bundle);
  if (filter.sha256 !== undefined) q = q.where('i.sha256', '=', filter.sha256);
  if (filter.excluded !== undefined) q = q.where('i.excluded', '=', filter.excluded);
  if (filter.status !== undefined) q = q.where(sql`coalesce(c.status, 'unlabeled')`, '=', filter.status);
  if (filter.afterId !== undefined) q = q.where('i.id', '>', filter.afterId);
  q = q.orderBy('i.id');
  if (filter.limit !== undefined) q = q.limit(filter.limit);
  return q.execute();
}

/** The columns an image DTO is made of (never `select *`), as Kysely infers them from selectImages. */
export type ImageRow = Awaited<ReturnType<typeof selectImages>>[number];

/** The id of the bundle named `name`, created on first use (race-free: insert … on conflict, then select). */
export async function ensureBundle(tx: Transaction<DB>, name: string): Promise<string> {
  await tx
    .insertInto('bundles')
    .values({ name })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await tx.selectFrom('bundles').select('id').where('name', '=', name).executeTakeFirstOrThrow();
  return row.id;
}

export interface NewImage {
  bundleId: string;
  name: string;
  sha256: string;
  byteSize: number;
  width: number;
  height: number;
  bitDepth: 8 | 16;
  min: number;
  max: number;
  p0_01: number;
  p99_99: number;
  histogram: number[];
}

/** Inserts an image; returns its id, or null when an image with the same SHA-256 already exists. */
export async function insertImage(tx: Transaction<DB>, img: NewImage): Promise<string | null> {
  const row = await tx
    .insertInto('images')
    .values({
      bundle_id: img.bundleId,
      name: img.name,
      sha256: img.sha256,
      byte_size: img.byteSize,
      width: img.width,
      height: img.height,
      bit_depth: img.bitDepth,
      px_min: img.min,
      px_max: img.max,
      p0_01: img.p0_01,
      p99_99: img.p99_99,
      histogram: img.histogram,
    })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

export async function imageIdBySha(db: Exec, sha256: string): Promise<string | null> {
  const row = await db.selectFrom('images').select('id').where('sha256', '=', sha256).executeTakeFirst();
  return row?.id ?? null;
}

/** What the raw and preview endpoints need. */
export async function imageFile(db: Exec, id: string) {
  return db
    .selectFrom('images')
    .select(['id', 'name', 'sha256', 'byte_size', 'width', 'height', 'bit_depth', 'p0_01', 'p99_99'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * An image's stored heatmap of evidence definition `version`: undefined when there is no such image, a row with
 * `heatmap` null while the runner has not computed its evidence yet. Evidence is keyed by content (sha256), so
 * an image re-uploaded under another name shares it.
 */
export async function imageHeatmap(db: Exec, imageId: string, version: string) {
  return db
    .selectFrom('images as i')
    .leftJoin('image_evidence as e', (join) =>
      join.onRef('e.sha256', '=', 'i.sha256').on('e.version', '=', version),
    )
    .select(['i.id', 'e.heatmap', 'e.heatmap_width', 'e.heatmap_height'])
    .where('i.id', '=', imageId)
    .executeTakeFirst();
}
