import type { Kysely, Transaction } from 'kysely';
import {
  PINNED_BOUNDS_SETTING,
  parsePinned,
  pinProblem,
  readDatasetBounds,
  type DatasetBounds,
} from '../../../lib/dataset/bounds.ts';
import { usesGlobalBounds, type StretchBounds } from '../../../lib/imaging/conversions.ts';
import type { BitDepth } from '../../../lib/imaging/gray-image.ts';
import { displayHistogramLayout } from '../../../lib/imaging/stats.ts';
import type { DB } from '../../../lib/db/schema.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { readSettingRows, writeSetting } from '../settings/settings.repository.ts';
import * as repo from './dataset.repository.ts';
import type { DatasetBoundsDto, DatasetStatsDto } from '../../../lib/api-types/images.ts';

/**
 * The method-2 bounds in force for images of a bit depth (pinned, else from the included images:
 * lib/dataset/bounds.ts), or null when there are none. Each bit depth has its own bounds: an 8-bit and a
 * 16-bit image do not share a value scale.
 */
export async function datasetBounds(
  db: Kysely<DB> | Transaction<DB>,
  bitDepth: BitDepth,
): Promise<StretchBounds | null> {
  return (await readDatasetBounds(db)).find((g) => g.bitDepth === bitDepth)?.inForce ?? null;
}

/**
 * Summed histograms, memoised per database and bit depth, keyed by the included set's fingerprint (uploads,
 * exclusions, restorations: lib/dataset/bounds.ts): the sum over the paper's 714 images takes ~0.5–1.5 s in
 * SQL, the fingerprint query milliseconds.
 */
const histogramCache = new WeakMap<object, Map<string, number[]>>();

async function cachedHistogram(db: Kysely<DB>, group: DatasetBounds): Promise<number[]> {
  let perDb = histogramCache.get(db);
  if (!perDb) histogramCache.set(db, (perDb = new Map()));
  const key = `${group.bitDepth}:${group.fingerprint}`;
  const hit = perDb.get(key);
  if (hit) return hit;
  const summed = await repo.summedHistogram(db, group.bitDepth);
  for (const k of perDb.keys()) if (k.startsWith(`${group.bitDepth}:`)) perDb.delete(k);
  perDb.set(key, summed);
  return summed;
}

function toBoundsDto(g: DatasetBounds): DatasetBoundsDto {
  return {
    bitDepth: g.bitDepth,
    images: g.images,
    globalMin: g.inForce.lo,
    globalMax: g.inForce.hi,
    pinned: g.pinned !== null,
    computedMin: g.computed?.lo ?? null,
    computedMax: g.computed?.hi ?? null,
  };
}

/** `GET /api/dataset/stats`: over included images; the bounds in force, what the images give, and the model's. */
export async function datasetStats(services: Services): Promise<DatasetStatsDto> {
  const [groups, excludedImages, model] = await Promise.all([
    readDatasetBounds(services.db),
    repo.excludedCount(services.db),
    repo.activeModelBounds(services.db),
  ]);
  const main = groups[0];
  const trained = model?.global_bounds?.find((b) => b.bitDepth === (main?.bitDepth ?? 16)) ?? null;
  const activeModel = model
    ? {
        version: model.id,
        method: model.method,
        trainedMin: trained?.lo ?? null,
        trainedMax: trained?.hi ?? null,
        // Only methods 2 and 4 read the dataset bounds; a version without recorded bounds cannot be compared.
        boundsMoved:
          usesGlobalBounds(model.method) &&
          trained !== null &&
          main !== undefined &&
          (trained.lo !== main.inForce.lo || trained.hi !== main.inForce.hi),
      }
    : null;
  if (!main || main.images === 0) {
    return {
      globalMin: main?.inForce.lo ?? null,
      globalMax: main?.inForce.hi ?? null,
      bitDepth: main?.bitDepth ?? null,
      images: 0,
      histogram: { binEdges: [], counts: [] },
      byBitDepth: groups.map(toBoundsDto),
      excludedImages,
      pinned: main?.pinned != null,
      computedMin: null,
      computedMax: null,
      activeModel,
    };
  }
  const { bins, binWidth } = displayHistogramLayout(main.bitDepth);
  const summed = await cachedHistogram(services.db, main);
  const counts = Array.from({ length: bins }, (_, k) => summed[k] ?? 0);
  return {
    globalMin: main.inForce.lo,
    globalMax: main.inForce.hi,
    bitDepth: main.bitDepth,
    images: main.images,
    histogram: { binEdges: Array.from({ length: bins + 1 }, (_, k) => k * binWidth), counts },
    byBitDepth: groups.map(toBoundsDto),
    excludedImages,
    pinned: main.pinned !== null,
    computedMin: main.computed?.lo ?? null,
    computedMax: main.computed?.hi ?? null,
    activeModel,
  };
}

/**
 * `PUT /api/dataset/bounds` (lead, admin): pin method 2's bounds of a bit depth — they stay in force whatever is
 * uploaded or excluded until unpinned. Bounds a `bitDepth`-bit image cannot take → 422, nothing changed.
 */
export async function pinBounds(
  services: Services,
  user: AuthUser,
  input: { bitDepth: BitDepth; globalMin: number; globalMax: number },
): Promise<DatasetStatsDto> {
  const problem = pinProblem(input.bitDepth, input.globalMin, input.globalMax);
  if (problem) throw new AppError('invalid', `globalMin/globalMax: ${problem}`);
  await writePins(services, user, (pins) =>
    pins.set(input.bitDepth, { lo: input.globalMin, hi: input.globalMax }),
  );
  return datasetStats(services);
}

/** `DELETE /api/dataset/bounds/:bitDepth`: the bounds follow the included images again. 409 when not pinned. */
export async function unpinBounds(
  services: Services,
  user: AuthUser,
  bitDepth: BitDepth,
): Promise<DatasetStatsDto> {
  await writePins(services, user, (pins) => {
    if (!pins.delete(bitDepth)) throw new AppError('conflict', `the ${bitDepth}-bit bounds are not pinned`);
  });
  return datasetStats(services);
}

async function writePins(
  services: Services,
  user: AuthUser,
  change: (pins: Map<BitDepth, StretchBounds>) => void,
): Promise<void> {
  await services.db.transaction().execute(async (tx) => {
    // Read-modify-write of one settings row: make sure it exists, then lock it, so two leads pinning 8- and 16-bit
    // bounds at once both keep theirs (the second waits for the first and reads its pin).
    await tx
      .insertInto('settings')
      .values({ key: PINNED_BOUNDS_SETTING, value: '{}', updated_by: user.id })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    await tx
      .selectFrom('settings')
      .select('key')
      .where('key', '=', PINNED_BOUNDS_SETTING)
      .forUpdate()
      .execute();
    const pins = parsePinned((await readSettingRows(tx)).get(PINNED_BOUNDS_SETTING) ?? null);
    change(pins);
    const value = Object.fromEntries([...pins].map(([bits, b]) => [String(bits), { lo: b.lo, hi: b.hi }]));
    await writeSetting(tx, PINNED_BOUNDS_SETTING, value, user.id);
  });
}
