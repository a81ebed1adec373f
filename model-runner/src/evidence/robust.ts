/**
 * Small robust-statistics kernels on typed arrays, shared by `working-image.ts` and `residual.ts`.
 * Everything is O(n) (selection, not sorting): the evidence budget is a few tens of milliseconds per image.
 */

/** 1 / Φ⁻¹(3/4): turns a median absolute deviation into a Gaussian standard deviation. */
export const MAD_TO_SIGMA = 1.482602218505602;

/**
 * Rearranges `a[lo..hi]` in place so that `a[k]` holds the value of rank k (0-based) of that range,
 * smaller-or-equal values before it and greater-or-equal after. Hoare partition with a median-of-three
 * pivot; expected linear time.
 */
export function selectInPlace(a: Float32Array, k: number, lo = 0, hi = a.length - 1): number {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as pivot, which also guards the scans.
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break; // j < k < i: a[k] equals the pivot
  }
  return a[k];
}

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/**
 * Nearest-rank quantile (the smallest value with at least ceil(q·n) values at or below it), computed by
 * selection on `scratch`, which is overwritten. `scratch` must hold the n values.
 */
export function quantileInPlace(scratch: Float32Array, q: number): number {
  const n = scratch.length;
  if (n === 0) return 0;
  const k = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return selectInPlace(scratch, k);
}

/** Median of `scratch` (lower median for even n), reordering it. */
export function medianInPlace(scratch: Float32Array): number {
  return quantileInPlace(scratch, 0.5);
}

/**
 * Statistics that only estimate a scale (the noise) are computed on at most this many values: the relative
 * error of a MAD from n Gaussian samples is ~1.2/√n, 0.5 % at 50 000, far below what the features resolve,
 * and the selection is linear in n.
 */
export const SCALE_SAMPLES = 50_000;

/** Standard deviation of a standard normal truncated to ±3: √(1 − 6φ(3) / (2Φ(3) − 1)). */
const TRUNCATED_SD_3 = 0.9865789;

/**
 * Robust location and Gaussian-consistent scale of `values` (not modified; one copy is made): median and
 * 1.4826·MAD, then two refinements to the mean and (bias-corrected) standard deviation of the values within ±3σ.
 *
 * Why not stop at median/MAD: on quantised data (8-bit images, block means of integers) both are quantised to the
 * lattice — the MAD of 8-bit noise of σ = 3 LSB can only be 1.48, 2.97, 4.45 … — so σ would be off by up to 25 %
 * and a plane's block medians would step by whole LSBs. Clipped moments average the quantisation out (it is then
 * counted as the noise it is) and still ignore everything beyond 3σ: defects. `quantum` is the data's lattice step
 * (1 for integers, 0 for continuous data); the clipping window is at least ±quantum, so a noise below one step
 * still sees its neighbouring levels.
 *
 * With `maxSamples`, a larger array is sampled at a fixed stride (odd, so rows of even width are not sampled on
 * one column parity only): deterministic, and spread over the whole image.
 */
export function medianAndSigma(
  values: Float32Array,
  maxSamples = Infinity,
  quantum = 0,
): { median: number; sigma: number } {
  if (values.length === 0) return { median: 0, sigma: 0 };
  let scratch: Float32Array;
  if (values.length > maxSamples) {
    let stride = Math.ceil(values.length / maxSamples);
    if (stride % 2 === 0) stride++;
    scratch = new Float32Array(Math.ceil(values.length / stride));
    for (let i = 0, j = 0; i < values.length; i += stride) scratch[j++] = values[i];
  } else scratch = values.slice();
  const median = medianInPlace(scratch);
  // Kept: selection reorders but does not change the multiset, and the refinement only sums.
  const sample = scratch.slice();
  for (let i = 0; i < scratch.length; i++) scratch[i] = Math.abs(scratch[i] - median);
  return refine(sample, median, MAD_TO_SIGMA * medianInPlace(scratch), quantum, false);
}

function refine(
  values: Float32Array,
  centre: number,
  sigma: number,
  quantum: number,
  fixedCentre: boolean,
): { median: number; sigma: number } {
  let c = centre;
  let s = sigma;
  for (let it = 0; it < 2; it++) {
    const lim = Math.max(3 * s, quantum);
    if (lim === 0) break;
    let n = 0,
      sum = 0,
      sq = 0;
    for (let i = 0; i < values.length; i++) {
      const d = values[i] - c;
      if (d <= lim && d >= -lim) {
        n++;
        sum += d;
        sq += d * d;
      }
    }
    if (n === 0) break;
    const shift = fixedCentre ? 0 : sum / n;
    c += shift;
    s = Math.sqrt(Math.max(0, sq / n - shift * shift)) / TRUNCATED_SD_3;
  }
  return { median: c, sigma: s };
}

/**
 * Pixel-noise estimate of a row-major image, robust to structure: the robust scale (1.4826·MAD about 0, refined by
 * ±3σ clipped moments, as in {@link medianAndSigma}) of Immerkær's mask [1 −2 1; −2 4 −2; 1 −2 1] (J. Immerkær,
 * "Fast noise variance estimation", CVIU 64(2), 1996), divided by 6, the mask's L2 norm, so white Gaussian noise
 * of σ gives σ. The mask is the product of two second differences, so it ignores anything linear along x or along
 * y (the coating's gradients) and most smooth background; the robust scale ignores the few pixels on edges and
 * defects. Sampled with a stride `step` (neighbours `step` apart), so an image enlarged by pixel replication is
 * measured on its original pixels. `region` (optional) restricts the mask centres to [x0, x1) × [y0, y1); rows of
 * mask centres are thinned so at most ~{@link SCALE_SAMPLES} values enter. `quantum`: the data's lattice step.
 */
export function laplacianNoise(
  data: Float32Array,
  width: number,
  height: number,
  step = 1,
  region?: { x0: number; x1: number; y0: number; y1: number },
  quantum = 0,
): number {
  const s = Math.max(1, Math.floor(step));
  const x0 = Math.max(s, region?.x0 ?? 0);
  const x1 = Math.min(width - s, region?.x1 ?? width);
  const y0 = Math.max(s, region?.y0 ?? 0);
  const y1 = Math.min(height - s, region?.y1 ?? height);
  if (x1 <= x0 || y1 <= y0) return 0;
  const nx = Math.ceil((x1 - x0) / s);
  const rowStep = s * Math.max(1, Math.ceil((nx * Math.ceil((y1 - y0) / s)) / SCALE_SAMPLES));
  const ny = Math.ceil((y1 - y0) / rowStep);
  const out = new Float32Array(nx * ny);
  let n = 0;
  const up = s * width;
  for (let y = y0; y < y1; y += rowStep) {
    const row = y * width;
    for (let x = x0; x < x1; x += s) {
      const i = row + x;
      const a = data[i - up - s] + data[i - up + s] + data[i + up - s] + data[i + up + s];
      const b = data[i - up] + data[i + up] + data[i - s] + data[i + s];
      out[n++] = a - 2 * b + 4 * data[i];
    }
  }
  const values = out.subarray(0, n);
  // The mask's output has median 0 for symmetric noise: MAD about 0, refined by clipped moments about 0
  // (see medianAndSigma: the mask of integer data is itself an integer).
  const abs = new Float32Array(n);
  for (let i = 0; i < n; i++) abs[i] = Math.abs(values[i]);
  return refine(values, 0, MAD_TO_SIGMA * medianInPlace(abs), quantum, true).sigma / 6;
}

/** sign(x)·ln(1 + |x|): compresses heavy-tailed statistics (a z of 500 next to typical 5) for linear models. */
export function slog(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}

/** Inverse of {@link slog}. */
export function unslog(y: number): number {
  return y < 0 ? -Math.expm1(-y) : Math.expm1(y);
}
