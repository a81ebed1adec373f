/**
 * THE paper's 16→8-bit conversions (Jensen et al. 2022, section 2.3), shared by the API (previews), the
 * model runner (network input) and the client. Read `docs/domain.md`, "Conversions".
 *
 * The paper calls them "histogram equalization", but its formulas are a linear stretch between two bounds,
 * clipped:
 *
 *     stretch(x, lo, hi) = min(255, floor((clamp(x, lo, hi) − lo) / (hi − lo) × 256))
 *
 * - Method 1 (naive):   floor(x / 256) for 16-bit input. For 8-bit input it is the identity (the paper's
 *                       "divide by 256" maps the 16-bit range onto 8 bits; an 8-bit image already is).
 * - Method 2 (global):  stretch(x, Gmin, Gmax) with the dataset-wide bounds of {@link globalBounds}.
 * - Method 3 (local):   stretch(x, Lmin_k, Lmax_k) with image k's own 0.01th / 99.99th percentiles, unrounded.
 * - Method 4 (mixed):   three channels: methods 1, 2 and 3 (R, G, B).
 *
 * Numerics: the quotient is computed as floor((c − lo) · 256 / (hi − lo)) on integers, which is exact (all
 * operands < 2^25), so the result equals the real-number formula. A float implementation that first divides
 * and then multiplies by 256 can land one level lower at exact multiples.
 *
 * Degenerate bounds hi == lo (a constant image's own bounds, or rounded global bounds that coincide): the
 * formula divides 0 by 0. We use its limit as hi → lo⁺: a threshold, 0 for x ≤ lo and 255 for x > lo.
 * A constant image therefore converts to black under method 3.
 *
 * All conversions run through a lookup table of 2^bitDepth entries (65536 or 256 bytes), built once per
 * (method, bounds): converting is then one table read per pixel.
 */
import type { BitDepth, GrayImage } from './gray-image.ts';
import { maxValue } from './gray-image.ts';

export const METHODS = [1, 2, 3, 4] as const;
export type Method = (typeof METHODS)[number];

/** Integer stretch bounds with lo ≤ hi. Build with {@link stretchBounds}, {@link globalBounds} or {@link localBounds}. */
export interface StretchBounds {
  readonly lo: number;
  readonly hi: number;
}

/** Per-image percentiles, as stored with every image. */
export interface PercentileBounds {
  p0_01: number;
  p99_99: number;
}

/** What a conversion needs, per method: wrong combinations (method 2 without global bounds) do not type-check. */
export type Conversion =
  | { method: 1 }
  | { method: 2; global: StretchBounds }
  | { method: 3; local: StretchBounds }
  | { method: 4; global: StretchBounds; local: StretchBounds };

/** Whether the method stretches with the dataset-wide bounds (methods 2 and 4), which then belong in every cache key. */
export function usesGlobalBounds(method: Method): method is 2 | 4 {
  return method === 2 || method === 4;
}

/**
 * The method → conversion mapping, its one home (previews, the runner, cross-validation): what each method needs
 * from the image's own percentiles (`local`) and the dataset-wide bounds (`global`, required by methods 2 and 4).
 */
export function conversionOf(
  method: Method,
  bounds: { local: StretchBounds; global: () => StretchBounds },
): Conversion {
  switch (method) {
    case 1:
      return { method: 1 };
    case 2:
      return { method: 2, global: bounds.global() };
    case 3:
      return { method: 3, local: bounds.local };
    case 4:
      return { method: 4, global: bounds.global(), local: bounds.local };
  }
}

/** Number of output channels: 3 for method 4, else 1 (the model replicates it ×3). */
export function channelsOf(method: Method): 1 | 3 {
  return method === 4 ? 3 : 1;
}

export function isMethod(x: unknown): x is Method {
  return x === 1 || x === 2 || x === 3 || x === 4;
}

/** Validated bounds: finite integers with lo ≤ hi. */
export function stretchBounds(lo: number, hi: number): StretchBounds {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) {
    throw new RangeError(`stretch bounds must be integers with lo ≤ hi, got lo=${lo}, hi=${hi}`);
  }
  return { lo, hi };
}

/** Method 3's bounds: the image's own 0.01th and 99.99th percentiles, not rounded (the paper mentions no rounding). */
export function localBounds(stats: PercentileBounds): StretchBounds {
  return stretchBounds(stats.p0_01, stats.p99_99);
}

/**
 * Method 2's dataset-wide bounds, the paper's procedure (section 2.3): Gmax is the largest of the images'
 * 99.99th percentiles and Gmin the smallest of their 0.01th percentiles, each rounded to the nearest hundred
 * for 16-bit data (halves round up: 1750 → 1800). For 8-bit data the bounds stay exact: rounding to hundreds
 * on 0–255 would collapse the range. Returns null when there are no images.
 */
export function globalBounds(
  perImage: readonly PercentileBounds[],
  bitDepth: BitDepth,
): StretchBounds | null {
  if (perImage.length === 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of perImage) {
    if (s.p0_01 < lo) lo = s.p0_01;
    if (s.p99_99 > hi) hi = s.p99_99;
  }
  if (bitDepth === 16) {
    lo = Math.round(lo / 100) * 100;
    hi = Math.round(hi / 100) * 100;
  }
  return stretchBounds(lo, hi);
}

/** The paper's stretch for one value, exactly as the formula in the module comment. */
export function stretch(x: number, lo: number, hi: number): number {
  if (hi === lo) return x > lo ? 255 : 0;
  const c = x < lo ? lo : x > hi ? hi : x;
  return Math.min(255, Math.floor(((c - lo) * 256) / (hi - lo)));
}

/** Method 1 for one value: floor(x / 256) for 16-bit, identity for 8-bit. */
export function naive(x: number, bitDepth: BitDepth): number {
  return bitDepth === 16 ? x >>> 8 : x;
}

/** Lookup table of method 1 for a bit depth. */
export function naiveLut(bitDepth: BitDepth): Uint8Array {
  const lut = new Uint8Array(maxValue(bitDepth) + 1);
  for (let v = 0; v < lut.length; v++) lut[v] = naive(v, bitDepth);
  return lut;
}

/** Lookup table of `stretch(·, lo, hi)` over every value of a bit depth. */
export function stretchLut(bounds: StretchBounds, bitDepth: BitDepth): Uint8Array {
  const lut = new Uint8Array(maxValue(bitDepth) + 1);
  const { lo, hi } = bounds;
  if (hi === lo) {
    lut.fill(255, Math.max(0, Math.min(lut.length, lo + 1)));
    return lut;
  }
  const span = hi - lo;
  const top = Math.min(hi, lut.length - 1);
  for (let v = Math.max(lo, 0); v <= top; v++) lut[v] = Math.min(255, Math.floor(((v - lo) * 256) / span));
  if (hi < lut.length - 1) lut.fill(255, hi + 1); // above hi: clamp → 256 → clipped to 255
  return lut; // below lo: 0 (the array's initial value)
}

/** One table per output channel: [method 1], [method 2], [method 3], or [1, 2, 3] for method 4. */
export function conversionLuts(conversion: Conversion, bitDepth: BitDepth): Uint8Array[] {
  switch (conversion.method) {
    case 1:
      return [naiveLut(bitDepth)];
    case 2:
      return [stretchLut(conversion.global, bitDepth)];
    case 3:
      return [stretchLut(conversion.local, bitDepth)];
    case 4:
      return [
        naiveLut(bitDepth),
        stretchLut(conversion.global, bitDepth),
        stretchLut(conversion.local, bitDepth),
      ];
  }
}

/** An 8-bit image in planes: one (gray) or three (R, G, B), each `width × height`, row-major. */
export interface Planes8 {
  width: number;
  height: number;
  planes: Uint8Array[];
}

/** Applies a conversion at full resolution. */
export function convert(image: GrayImage, conversion: Conversion): Planes8 {
  const luts = conversionLuts(conversion, image.bitDepth);
  const src = image.data;
  const planes = luts.map((lut) => {
    const out = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = lut[src[i]];
    return out;
  });
  return { width: image.width, height: image.height, planes };
}
