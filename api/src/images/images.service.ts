import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Kysely, RawBuilder } from 'kysely';
import type { DB, ImageStatus } from '../../../lib/db/schema.ts';
import {
  conversionOf,
  localBounds,
  usesGlobalBounds,
  type Method,
  type StretchBounds,
} from '../../../lib/imaging/conversions.ts';
import { InvalidImageError } from '../../../lib/imaging/tiff-decode.ts';
import { TaskOverrunError } from '../../../lib/imaging/worker-pool.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { settingsAndActiveModel, type Settings } from '../settings/settings.service.ts';
import { datasetBounds } from '../dataset/dataset.service.ts';
import { fileSize, localFiles, receiveUpload, removeStalePreviews, tempPath } from './local-files.ts';
import { ImageMissingError } from '../../../lib/image-store/image-store.ts';
import { imagingPool, uploadPool, withKeyLock } from './imaging.ts';
import * as repo from './images.repository.ts';
import type { ImageDto, UploadedImageDto } from '../../../lib/api-types/images.ts';
import { farOutside, readDatasetBounds, type DatasetBounds } from '../../../lib/dataset/bounds.ts';
import type { PercentileBounds } from '../../../lib/imaging/conversions.ts';
import type { BitDepth } from '../../../lib/imaging/gray-image.ts';

function toDto(r: repo.ImageRow): ImageDto {
  return {
    id: r.id,
    bundle: r.bundle,
    name: r.name,
    width: r.width,
    height: r.height,
    bitDepth: r.bit_depth,
    sha256: r.sha256,
    byteSize: Number(r.byte_size),
    createdAt: r.created_at.toISOString(),
    status: r.status,
    stats: { min: r.px_min, max: r.px_max, p0_01: r.p0_01, p99_99: r.p99_99 },
    prediction:
      r.model_version !== null && r.p_abnormal !== null
        ? { modelVersion: r.model_version, pAbnormal: r.p_abnormal }
        : null,
    excluded:
      r.excluded_at !== null
        ? { at: r.excluded_at.toISOString(), by: r.excluded_by ?? '', reason: r.excluded_reason ?? '' }
        : null,
  };
}

/**
 * Whose prediction the caller may see: the active model's, except for experts while the `showModelHint`
 * setting is off — votes are blind to the model then, so the image list must not leak it either.
 */
async function visibleModel(services: Services, user: AuthUser): Promise<string | null> {
  const { settings, activeModel } = await settingsAndActiveModel(services.db);
  return modelVisibleTo(user, settings, activeModel);
}

/** The model whose prediction `user` may see: experts only when `showModelHint` is on. */
export function modelVisibleTo(
  user: AuthUser,
  settings: Settings,
  activeModel: string | null,
): string | null {
  return user.role === 'expert' && !settings.showModelHint ? null : activeModel;
}

class AlreadyStored extends Error {}

/**
 * A call into the image store; its failure (a bucket that does not answer, refused credentials) is the store's,
 * not the request's: 503 naming the store, so an operator sees where to look. A missing image is named as such.
 */
async function fromStore<T>(services: Services, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof ImageMissingError)
      throw new AppError(
        'unavailable',
        `the file of ${what} is missing from the image store (${err.sha256})`,
      );
    services.logger.error({ err, store: services.images.description }, `image store failed: ${what}`);
    throw new AppError(
      'unavailable',
      `the image store (${services.images.description}) failed for ${what}: ${(err as Error).message || (err as Error).name}`,
    );
  }
}

/**
 * Stores an uploaded TIFF: stream to a temporary file (hashing, size limit → 413), reuse the existing image
 * when the same bytes are already stored (200, whatever bundle or name this request gave; a stored file that went
 * missing is restored from these bytes), otherwise decode,
 * validate (→ 422 saying what the file is) and compute statistics in a worker, then in one transaction
 * create the bundle if needed, insert the row and publish the file as images/<sha256>. A failure at any step
 * leaves neither the file nor the row behind.
 */
export async function uploadImage(
  services: Services,
  user: AuthUser,
  input: { bundle: string; name: string },
  body: Readable,
  declaredLength: number | null,
): Promise<{ created: boolean; image: UploadedImageDto }> {
  const files = localFiles(services.config.dataDir);
  const upload = await receiveUpload(files, body, services.config.maxUploadBytes, declaredLength);
  const what = `the upload ${upload.sha256}`;
  const put = () =>
    fromStore(services, what, () => services.images.put(upload.sha256, { path: upload.path }));
  const existing = async (id: string) => {
    // Same bytes (verified by their hash): if the stored file went missing, this upload restores it.
    if ((await fromStore(services, what, () => services.images.size(upload.sha256))) === null) await put();
    const image = await getImage(services, user, id);
    return { created: false, image: { ...image, upload: { duplicate: true, outsideBounds: null } } };
  };
  try {
    const known = await repo.imageIdBySha(services.db, upload.sha256);
    if (known) return await existing(known);

    let info;
    try {
      info = await uploadPool().run('inspect', { source: { path: upload.path } });
    } catch (err) {
      if (err instanceof InvalidImageError)
        throw new AppError('invalid', err.message, { reason: err.reason });
      // The decode went over its budget (imaging-pool.ts): a file no valid image of an accepted size resembles.
      if (err instanceof TaskOverrunError) {
        throw new AppError(
          'invalid',
          `Decoding this TIFF went over its ${err.budget} budget (${err.message}); a valid image of an accepted size never does.`,
          { reason: 'over_budget' },
        );
      }
      throw err;
    }
    const { stats } = info;
    const boundsBefore = (await readDatasetBounds(services.db)).find((g) => g.bitDepth === info.bitDepth);

    return await withKeyLock(upload.sha256, async () => {
      const raced = await repo.imageIdBySha(services.db, upload.sha256);
      if (raced) return existing(raced);
      let published = false;
      try {
        const id = await services.db.transaction().execute(async (tx) => {
          const bundleId = await repo.ensureBundle(tx, input.bundle);
          const id = await repo.insertImage(tx, {
            bundleId,
            name: input.name,
            sha256: upload.sha256,
            byteSize: upload.size,
            width: info.width,
            height: info.height,
            bitDepth: info.bitDepth,
            min: stats.min,
            max: stats.max,
            p0_01: stats.p0_01,
            p99_99: stats.p99_99,
            histogram: Array.from(stats.histogram.counts),
          });
          if (id === null) throw new AlreadyStored(); // another process stored it meanwhile: roll back the bundle
          // Into the store inside the transaction: the row commits (and the upload is acknowledged) only once
          // the store holds the bytes — a completed PutObject, or the file renamed into place.
          await put();
          published = true;
          return id;
        });
        services.logger.info({ imageId: id, sha256: upload.sha256, bundle: input.bundle }, 'image stored');
        const outsideBounds = boundsBefore
          ? await outsideBoundsReport(services, stats, info.bitDepth, boundsBefore)
          : null;
        const image = await getImage(services, user, id);
        return { created: true, image: { ...image, upload: { duplicate: false, outsideBounds } } };
      } catch (err) {
        if (published)
          await services.images
            .remove(upload.sha256)
            .catch((e) => services.logger.warn({ err: e }, 'could not remove an uncommitted image'));
        if (err instanceof AlreadyStored) {
          const id = await repo.imageIdBySha(services.db, upload.sha256);
          if (id) return existing(id);
        }
        throw err;
      }
    });
  } finally {
    await rm(upload.path, { force: true }); // a no-op once a local store renamed it into place
  }
}

/**
 * The upload report's flag (issue 15): an image whose 0.01–99.99 % range lies far outside the method-2 bounds in
 * force before it came is named, with what it did to the bounds — nothing when they are pinned, else how far they
 * moved — so a wrong upload is not absorbed silently. Null for an image within them.
 */
async function outsideBoundsReport(
  services: Services,
  stats: PercentileBounds,
  bitDepth: BitDepth,
  before: DatasetBounds,
): Promise<UploadedImageDto['upload']['outsideBounds']> {
  if (!farOutside(stats, before.inForce)) return null;
  const now =
    (await readDatasetBounds(services.db)).find((g) => g.bitDepth === bitDepth)?.inForce ?? before.inForce;
  const range = `its values ${stats.p0_01}–${stats.p99_99} (0.01–99.99 %) lie far outside the method-2 bounds ${before.inForce.lo}–${before.inForce.hi}`;
  const message = before.pinned
    ? `${range}, which are pinned and stay; exclude the image if it does not belong to the data set`
    : now.lo === before.inForce.lo && now.hi === before.inForce.hi
      ? `${range}; the bounds did not move`
      : `${range}: the bounds moved to ${now.lo}–${now.hi} for every image; exclude the image or pin the bounds to keep ${before.inForce.lo}–${before.inForce.hi}`;
  return {
    before: { lo: before.inForce.lo, hi: before.inForce.hi, pinned: before.pinned !== null },
    after: { lo: now.lo, hi: now.hi },
    message,
  };
}

export async function getImage(services: Services, user: AuthUser, id: string): Promise<ImageDto> {
  const [row] = await repo.selectImages(services.db, { ids: [id] }, await visibleModel(services, user));
  if (!row) throw new AppError('not_found', `no image with id ${id}`);
  return toDto(row);
}

/**
 * The image whose id `idOf` yields (a scalar subquery, run once: the queue's claim), with the prediction of
 * `modelVersion`; null when it yields none.
 */
export async function imageOfWithModel(
  db: Kysely<DB>,
  idOf: RawBuilder<string | null>,
  modelVersion: string | null,
): Promise<ImageDto | null> {
  const [row] = await repo.selectImages(db, { idOf }, modelVersion);
  return row ? toDto(row) : null;
}

/** Cursors are opaque to clients; inside, the last id of the previous page. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`after:${lastId}`).toString('base64url');
}

export function decodeCursor(cursor: string): string | null {
  const m = /^after:([1-9][0-9]{0,17})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? m[1] : null;
}

/** One page of images in upload order, optionally of one bundle and one status. */
export async function listImages(
  services: Services,
  user: AuthUser,
  query: {
    bundle?: string;
    status?: ImageStatus;
    sha256?: string;
    excluded?: boolean;
    limit: number;
    cursor?: string;
  },
): Promise<{ items: ImageDto[]; nextCursor: string | null }> {
  let afterId: string | undefined;
  if (query.cursor !== undefined) {
    const id = decodeCursor(query.cursor);
    if (id === null) throw new AppError('invalid', 'query.cursor: not a cursor this API handed out');
    afterId = id;
  }
  const rows = await repo.selectImages(
    services.db,
    {
      bundle: query.bundle,
      status: query.status,
      sha256: query.sha256,
      excluded: query.excluded,
      afterId,
      limit: query.limit + 1,
    },
    await visibleModel(services, user),
  );
  const items = rows.slice(0, query.limit).map(toDto);
  const nextCursor = rows.length > query.limit ? encodeCursor(items[items.length - 1].id) : null;
  return { items, nextCursor };
}

async function imageFileOrThrow(services: Services, id: string) {
  const row = await repo.imageFile(services.db, id);
  if (!row) throw new AppError('not_found', `no image with id ${id}`);
  return row;
}

/** The original bytes of an image as a stream from the image store, with what the response says of them. */
export async function rawImage(services: Services, id: string) {
  const row = await imageFileOrThrow(services, id);
  const stored = await fromStore(services, `image ${id}`, () => services.images.stream(row.sha256));
  if (stored === null) {
    throw new AppError(
      'unavailable',
      `the file of image ${id} is missing from the image store (${row.sha256})`,
    );
  }
  return { body: stored.body, size: stored.size, name: row.name, sha256: row.sha256 };
}

/** Default preview width when the request names none; previews are never wider than the image. */
export const DEFAULT_PREVIEW_WIDTH = 512;

/**
 * A PNG preview made with the paper's conversion `method`, cached on disk. The cache key holds everything
 * the pixels depend on: method, width and — for methods 2 and 4 — the dataset-wide bounds, so a preview
 * made before new images moved the bounds is never served again (and is deleted when its successor is made).
 */
export async function previewImage(
  services: Services,
  id: string,
  method: Method,
  requestedWidth: number | undefined,
): Promise<{ path: string; etag: string }> {
  const row = await imageFileOrThrow(services, id);
  const width = Math.min(requestedWidth ?? DEFAULT_PREVIEW_WIDTH, row.width);
  const local = localBounds(row);
  let key = `m${method}-w${width}`;
  let global: StretchBounds | undefined;
  if (usesGlobalBounds(method)) {
    global = (await datasetBounds(services.db, row.bit_depth)) ?? undefined;
    if (!global) throw new AppError('not_found', `no image with id ${id}`); // deleted meanwhile
    key += `-g${global.lo}-${global.hi}`;
  }
  const conversion = conversionOf(method, { local, global: () => global! });
  const files = localFiles(services.config.dataDir);
  const target = files.previewPath(row.sha256, key);
  const etag = `"${row.sha256.slice(0, 16)}-${key}"`;
  if ((await fileSize(target)) !== null) return { path: target, etag };

  const source = await fromStore(services, `image ${id}`, () => services.images.source(row.sha256));
  const png = await imagingPool().run('preview', { source, conversion, width });
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = await tempPath(files, 'preview');
  await writeFile(tmp, png);
  await rename(tmp, target); // atomic: concurrent renderers of the same key write identical bytes
  if (usesGlobalBounds(method)) await removeStalePreviews(files, row.sha256, `m${method}-w${width}-`, key);
  return { path: target, etag };
}
