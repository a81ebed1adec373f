/**
 * Exact pixel statistics in one pass over the pixels, via a counting histogram over the full value range
 * (65536 bins for 16-bit, 256 for 8-bit): no sorting, no sampling, O(pixels + range).
 *
 * Percentile definition (the paper, section 2.3, does not state one): **nearest rank**. The p-th percentile
 * of N values is the smallest value v such that at least ceil(p/100 · N) values are ≤ v (rank at least 1).
 * It is always a pixel value that occurs in the image, which suits integer bounds. The rank is computed in
 * integer arithmetic with p given as a fraction of 10000 (1 = 0.01 %, 9999 = 99.99 %), so that
 * 0.01 % of 2 000 000 is exactly rank 200 — not 201 through a floating-point 200.00000000000003.
 *
 * Display histogram: 1024 bins over the full 16-bit range (bin width 64: bin b holds values 64b … 64b+63).
 * For 8-bit images: 256 bins of width 1 — the 256 possible values each get their own bin; 1024 bins
 * of width 1/4 would leave three of every four bins empty by construction.
 */
import type { BitDepth, GrayImage } from './gray-image.ts';

export interface PixelStats {
  min: number;
  max: number;
  /** 0.01th percentile, nearest rank. */
  p0_01: number;
  /** 99.99th percentile, nearest rank. */
  p99_99: number;
  /** Display histogram: `counts[b]` pixels have a value in `[b·binWidth, (b+1)·binWidth)`. */
  histogram: { binWidth: number; counts: Uint32Array };
}

/** Bins of the display histogram: 1024 of width 64 for 16-bit, 256 of width 1 for 8-bit. */
export function displayHistogramLayout(bitDepth: BitDepth): { bins: number; binWidth: number } {
  return bitDepth === 16 ? { bins: 1024, binWidth: 64 } : { bins: 256, binWidth: 1 };
}

/** Counts of every possible value (65536 or 256 bins). */
export function fullHistogram(image: GrayImage): Uint32Array {
  const counts = new Uint32Array(image.bitDepth === 16 ? 65536 : 256);
  const data = image.data;
  for (let i = 0; i < data.length; i++) counts[data[i]]++;
  return counts;
}

/**
 * Nearest-rank percentile from a full-range counting histogram, with p = numerator / denominator
 * (e.g. 1/10000 for the 0.01th percentile). Returns the smallest value whose cumulative count reaches
 * ceil(p · total), at least rank 1. Throws on an empty histogram.
 */
export function percentileFromHistogram(
  counts: Uint32Array,
  total: number,
  numerator: number,
  denominator: number,
): number {
  if (total <= 0) throw new RangeError('percentile of an empty histogram');
  // ceil(total * numerator / denominator) in exact integer arithmetic (total · numerator < 2^53 here).
  const rank = Math.max(1, Math.floor((total * numerator + denominator - 1) / denominator));
  let cumulative = 0;
  for (let v = 0; v < counts.length; v++) {
    cumulative += counts[v];
    if (cumulative >= rank) return v;
  }
  throw new RangeError(`histogram holds fewer than ${rank} values`);
}

/** min, max, p0.01, p99.99 and the display histogram of an image, exactly, in one pass over the pixels. */
export function computeStats(image: GrayImage): PixelStats {
  const total = image.width * image.height;
  if (total === 0 || image.data.length !== total) {
    throw new RangeError(`image of ${image.width}×${image.height} has ${image.data.length} pixels`);
  }
  const counts = fullHistogram(image);
  let min = 0;
  while (counts[min] === 0) min++;
  let max = counts.length - 1;
  while (counts[max] === 0) max--;
  const { bins, binWidth } = displayHistogramLayout(image.bitDepth);
  const display = new Uint32Array(bins);
  for (let v = min; v <= max; v++) display[Math.floor(v / binWidth)] += counts[v];
  return {
    min,
    max,
    p0_01: percentileFromHistogram(counts, total, 1, 10000),
    p99_99: percentileFromHistogram(counts, total, 9999, 10000),
    histogram: { binWidth, counts: display },
  };
}
