import { sql } from 'kysely';
import type { Exec, StoredBounds } from '../db/schema.ts';
import {
  globalBounds,
  stretchBounds,
  type PercentileBounds,
  type StretchBounds,
} from '../imaging/conversions.ts';
import { maxValue, type BitDepth } from '../imaging/gray-image.ts';

/**
 * Method 2's dataset-wide bounds (paper 2.3) — the one home of what the API's previews and the runner's
 * method-2/4 inputs use, so the two can never disagree.
 *
 * The paper takes the minimum 0.01th and the maximum 99.99th percentile over every image of the data set. Two
 * decisions of ours (issue 15):
 * - Only included images count: an excluded image (a wrong upload, not an electrode) must not stretch every other
 *   image's preset.
 * - A lead can pin the bounds per bit depth (the acquisition profile the lab trusts). Pinned bounds are in force
 *   whatever is uploaded later; the bounds the images would give stay visible beside them (`computed`).
 */

/** The settings key of the pinned bounds: `{"16": {"lo": 1700, "hi": 28000}}`. */
export const PINNED_BOUNDS_SETTING = 'pinnedBounds';

export interface DatasetBounds {
  bitDepth: BitDepth;
  /** Included images of this bit depth. */
  images: number;
  /** What the included images give (the paper's rule); null when there are none. */
  computed: StretchBounds | null;
  /** What the lead pinned; null when not pinned. */
  pinned: StretchBounds | null;
  /** What methods 2 and 4 use: the pinned bounds, else the computed ones. */
  inForce: StretchBounds;
  /**
   * Changes whenever the included set of this bit depth may have: an upload (count, last id) or any exclusion
   * or restoration (the latest exclusion row). What caches of sums over the included images key on.
   */
  fingerprint: string;
}

interface Row {
  groups: { bit_depth: BitDepth; images: number; lo: number; hi: number; last_id: string }[] | null;
  pinned: unknown;
  last_exclusion: string | null;
}

/** Pinned bounds as stored in the settings; anything malformed is ignored (never written by the API). */
export function parsePinned(value: unknown): Map<BitDepth, StretchBounds> {
  const out = new Map<BitDepth, StretchBounds>();
  if (value === null || typeof value !== 'object') return out;
  for (const bits of [8, 16] as const) {
    const b = (value as Record<string, { lo?: unknown; hi?: unknown }>)[String(bits)];
    if (b && Number.isInteger(b.lo) && Number.isInteger(b.hi) && (b.lo as number) < (b.hi as number))
      out.set(bits, stretchBounds(b.lo as number, b.hi as number));
  }
  return out;
}

/** Whether `lo`–`hi` are bounds a `bits`-bit image can be stretched to: null when they are, else why not. */
export function pinProblem(bits: BitDepth, lo: number, hi: number): string | null {
  if (lo < 0 || hi > maxValue(bits)) return `must lie within 0–${maxValue(bits)} for ${bits}-bit images`;
  if (lo >= hi) return `lo (${lo}) must be below hi (${hi})`;
  return null;
}

/** The bounds of every bit depth that has included images or pinned bounds, most images first. */
export async function readDatasetBounds(db: Exec): Promise<DatasetBounds[]> {
  const { rows } = await sql<Row>`
    with g as (
      select bit_depth, count(*)::int as images, min(p0_01) as lo, max(p99_99) as hi, max(id)::text as last_id
      from images where not excluded group by bit_depth
    )
    select (select json_agg(g) from g) as groups,
           (select value from settings where key = ${PINNED_BOUNDS_SETTING}) as pinned,
           (select max(id)::text from image_exclusions) as last_exclusion`.execute(db);
  const row = rows[0]!;
  const pinned = parsePinned(row.pinned);
  const out: DatasetBounds[] = [];
  for (const bits of [16, 8] as const) {
    const g = (row.groups ?? []).find((x) => Number(x.bit_depth) === bits);
    const computed = g ? globalBounds([{ p0_01: g.lo, p99_99: g.hi }], bits) : null;
    const pin = pinned.get(bits) ?? null;
    const inForce = pin ?? computed;
    if (!inForce) continue;
    out.push({
      bitDepth: bits,
      images: g?.images ?? 0,
      computed,
      pinned: pin,
      inForce,
      fingerprint: `${g?.images ?? 0}:${g?.last_id ?? ''}:${row.last_exclusion ?? ''}`,
    });
  }
  return out.sort((a, b) => b.images - a.images || b.bitDepth - a.bitDepth);
}

/**
 * How far beyond the bounds an image's 0.01–99.99 % range must reach to be flagged on upload: a quarter of the
 * bounds' width on either side. Ordinary electrodes of one acquisition differ in their brightest specks: in
 * lib/import/watcher.test.ts the third and fourth synthetic electrodes widened the young data set's bounds by 12 % and
 * 11 % of their width, which a tenth flagged. A test exposure, an 8-bit export scaled to 16 bits or a saturated frame
 * widen them by far more (300–65 500 against 1700–28 000: 140 %).
 */
export const FAR_OUTSIDE = 0.25;

/**
 * Whether an image's percentiles reach far outside `bounds` (FAR_OUTSIDE), or lie wholly outside them (a dark
 * frame below the bounds would be all black in method 2 however little it sticks out).
 */
export function farOutside(image: PercentileBounds, bounds: StretchBounds): boolean {
  const margin = FAR_OUTSIDE * (bounds.hi - bounds.lo);
  return (
    image.p0_01 < bounds.lo - margin ||
    image.p99_99 > bounds.hi + margin ||
    image.p99_99 < bounds.lo ||
    image.p0_01 > bounds.hi
  );
}

/** The bounds methods 2 and 4 use, per bit depth (absent: no included image and nothing pinned). */
export async function boundsInForce(db: Exec): Promise<Map<BitDepth, StretchBounds>> {
  return new Map((await readDatasetBounds(db)).map((g) => [g.bitDepth, g.inForce]));
}

/** The bounds in force as a model version records them (`model_versions.global_bounds`). */
export function storedBounds(groups: readonly DatasetBounds[]): StoredBounds[] {
  return groups
    .map((g) => ({ bitDepth: g.bitDepth, lo: g.inForce.lo, hi: g.inForce.hi, pinned: g.pinned !== null }))
    .sort((a, b) => b.bitDepth - a.bitDepth);
}
