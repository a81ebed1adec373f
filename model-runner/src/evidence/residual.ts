/**
 * Local-residual evidence (issue 13): the statistics a radiographer's QC tool computes on a flat-field image —
 * the image minus its smooth background, in units of its own noise, and what stands out of it: tails, connected
 * regions, lines, edge bands, the coating level, and where in the image it happens.
 *
 * Every statistic is generic (no shape, size or threshold chosen for a particular anomaly type) and invariant under
 * horizontal and vertical flips (sides are pooled by max/min, cells by max/median), so the head's flip
 * augmentation leaves this block unchanged. Heavy-tailed magnitudes are compressed (see README) so a z of 500
 * does not dominate a standardised linear head.
 */
import { maxValue } from '../../../lib/imaging/gray-image.ts';
import {
  laplacianNoise,
  medianAndSigma,
  medianInPlace,
  quantileInPlace,
  SCALE_SAMPLES,
  slog,
} from './robust.ts';
import { noiseFloor, noiseStride, quantum, type WorkingImage } from './working-image.ts';

export interface ResidualOptions {
  /** Grid cells across the short side and along the long side. Default 4 × 8. */
  grid?: { across: number; along: number };
  /** Thickness of the edge band as a fraction of the short side. Default 0.03 (9 working px, ~35 raw px). */
  edgeFraction?: number;
}

export interface ResidualEvidence {
  /** One value per name, same length and order for every image. */
  values: Float32Array;
  names: string[];
  /** Signed z of every working pixel (image − background, over the robust noise), row-major, for heatmaps. */
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
}

/**
 * Computes the residual evidence of a working image (`working-image.ts`).
 *
 * z = (x − background − median) / σ, where the background is a robust smooth surface (block medians, a 3×3 median
 * of those, bilinear with linear extrapolation: exact on planes, blind to defects smaller than ~2 blocks) and σ is
 * 1.4826·MAD of the residual — the image's own noise *and* texture, so thresholds like |z| > 4 mean "stands out of
 * this image" whatever the exposure, gain or bit depth. `z3` is the same on a 3×3 box mean of z, renormalised by
 * its own MAD: it sees faint defects a few working pixels wide that no single pixel shows.
 */
export function residualEvidence(w: WorkingImage, options: ResidualOptions = {}): ResidualEvidence {
  const { width: W, height: H, data } = w;
  const out = new FeatureList();
  const m = maxValue(w.bitDepth);
  const rawPerWorking = w.factor * w.factor;
  const minSide = Math.min(W, H);

  // --- background and z ---------------------------------------------------------------------------------------
  const q = quantum(w);
  const bg = backgroundSurface(data, W, H, q);
  const z = new Float32Array(W * H);
  for (let i = 0; i < z.length; i++) z[i] = data[i] - bg.surface[i];
  const r = medianAndSigma(z, SCALE_SAMPLES, q);
  const floor = noiseFloor(w);
  const sigma = Math.max(r.sigma, floor);
  const pixelNoise = Math.max(laplacianNoise(data, W, H, noiseStride(w), undefined, q), floor);
  const invSigma = 1 / sigma;
  for (let i = 0; i < z.length; i++) z[i] = (z[i] - r.median) * invSigma;

  const z3 = box3(z, W, H);
  const s3 = medianAndSigma(z3, SCALE_SAMPLES);
  const inv3 = 1 / Math.max(s3.sigma, 0.05);
  for (let i = 0; i < z3.length; i++) z3[i] = (z3[i] - s3.median) * inv3;

  // --- global tails of both signs -------------------------------------------------------------------------------
  for (const [scale, map] of [
    ['s1', z],
    ['s3', z3],
  ] as const) {
    const t = tailStats(map);
    out.add(`residual.${scale}.z.q001`, slog(t.q001));
    out.add(`residual.${scale}.z.q01`, slog(t.q01));
    out.add(`residual.${scale}.z.q99`, slog(t.q99));
    out.add(`residual.${scale}.z.q999`, slog(t.q999));
    out.add(`residual.${scale}.z.min`, slog(t.min));
    out.add(`residual.${scale}.z.max`, slog(t.max));
    out.add(`residual.${scale}.absz.mean`, t.meanAbs);
    out.add(`residual.${scale}.frac.abs3`, t.beyond3);
    out.add(`residual.${scale}.frac.abs4`, t.beyond4);
    out.add(`residual.${scale}.frac.abs6`, t.beyond6);
  }

  // --- connected regions (8-connectivity), areas in raw pixels --------------------------------------------------
  for (const [name, map, mode, threshold] of [
    ['s1.pos4', z, 'pos', 4],
    ['s1.neg4', z, 'neg', 4],
    ['s1.abs6', z, 'abs', 6],
    ['s3.pos4', z3, 'pos', 4],
    ['s3.neg4', z3, 'neg', 4],
  ] as const) {
    const reg = connectedRegions(map, W, H, mode, threshold);
    out.add(`residual.region.${name}.log_count`, Math.log1p(reg.count));
    out.add(`residual.region.${name}.log_largest_px`, Math.log1p(reg.largest * rawPerWorking));
    out.add(`residual.region.${name}.log_total_px`, Math.log1p(reg.total * rawPerWorking));
  }

  // --- line profiles --------------------------------------------------------------------------------------------
  const prof = profileStats(z, W, H);
  out.add('residual.profile.rows.absz.max', slog(prof.rows.max));
  out.add('residual.profile.rows.log_count4', Math.log1p(prof.rows.count));
  out.add('residual.profile.rows.excess', Math.log(prof.rows.excess));
  out.add('residual.profile.rows.segment.absz.max', slog(prof.rowSegmentsMax));
  out.add('residual.profile.cols.absz.max', slog(prof.cols.max));
  out.add('residual.profile.cols.log_count4', Math.log1p(prof.cols.count));
  out.add('residual.profile.cols.excess', Math.log(prof.cols.excess));
  out.add('residual.profile.cols.segment.absz.max', slog(prof.colSegmentsMax));
  out.add('residual.profile.diag.absz.max', slog(prof.diag.max));
  out.add('residual.profile.diag.log_count4', Math.log1p(prof.diag.count));

  // --- edge bands -----------------------------------------------------------------------------------------------
  const band = Math.max(2, Math.round((options.edgeFraction ?? 0.03) * minSide));
  const edge = edgeStats(data, z, W, H, band, sigma, pixelNoise, noiseStride(w), q);
  out.add('residual.edge.level.min', edge.levelMin);
  out.add('residual.edge.level.max', edge.levelMax);
  out.add('residual.edge.noise.ratio.min', Math.log(edge.noiseRatioMin));
  out.add('residual.edge.noise.ratio.max', Math.log(edge.noiseRatioMax));
  out.add('residual.edge.profile.rough.max', Math.log(edge.roughMax));
  out.add('residual.edge.profile.dev.max', slog(edge.devMax));
  out.add('residual.edge.absz.max', slog(edge.zMax));

  // --- coating level (the caller compares it with its bundle's median) -----------------------------------------
  const level = interiorLevel(data, W, H, band, q);
  out.add('residual.level.median', level.median / m);
  out.add('residual.level.iqr', level.iqr / m);

  // --- large-scale background: what the residual cannot see -----------------------------------------------------
  const shape = backgroundShape(bg, W, H, Math.max(level.median, 1));
  out.add('residual.background.tilt', shape.tilt);
  out.add('residual.background.rough', shape.rough);
  out.add('residual.background.dev.max', shape.devMax);

  // --- noise ----------------------------------------------------------------------------------------------------
  // Raw-pixel noise, assuming white noise (area averaging divides it by the factor), over the largest value.
  out.add('residual.noise.pixel.log', Math.log((pixelNoise * Math.max(1, w.factor)) / m));
  // > 0 when the residual holds more than white pixel noise: texture, correlated noise, many small defects.
  out.add('residual.noise.texture.log', Math.log(sigma / pixelNoise));

  // --- spatial grid: keeps a defect in one cell from being averaged away ---------------------------------------
  const grid = options.grid ?? { across: 4, along: 8 };
  const [gx, gy] = W <= H ? [grid.across, grid.along] : [grid.along, grid.across];
  for (const [scale, map] of [
    ['s1', z],
    ['s3', z3],
  ] as const) {
    const g = gridStats(map, W, H, Math.min(gx, W), Math.min(gy, H));
    out.add(`residual.grid.${scale}.absz.mean.max`, g.meanAbsMax);
    out.add(`residual.grid.${scale}.absz.mean.spread`, g.meanAbsSpread);
    out.add(`residual.grid.${scale}.absz.max.median`, slog(g.maxAbsMedian));
    out.add(`residual.grid.${scale}.absz.max.spread`, slog(g.maxAbsMax) - slog(g.maxAbsMedian));
    // A cell's mean z3 is ~3× its mean z (box means keep means, σ3 ≈ σ/3): signed cell means at s1 only.
    if (scale === 's1') {
      out.add(`residual.grid.${scale}.z.mean.max`, g.meanMax);
      out.add(`residual.grid.${scale}.z.mean.min`, g.meanMin);
    }
    out.add(`residual.grid.${scale}.frac.abs3.max`, g.beyond3Max);
  }

  return { values: out.values(), names: out.names, map: z, mapWidth: W, mapHeight: H };
}

class FeatureList {
  readonly names: string[] = [];
  private readonly v: number[] = [];
  add(name: string, value: number): void {
    this.names.push(name);
    // A statistic with nothing to measure (e.g. a profile of identical rows) reads as "nothing unusual".
    this.v.push(Number.isFinite(value) ? value : 0);
  }
  values(): Float32Array {
    return Float32Array.from(this.v);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Background

interface Background {
  surface: Float32Array;
  /** Raw block medians (before the 3×3 median), nby × nbx, and the block centres in pixels. */
  blocks: Float32Array;
  nbx: number;
  nby: number;
  cx: Float64Array;
  cy: Float64Array;
}

/**
 * Robust smooth background: a robust location (median refined by a ±3σ clipped mean) of ~B×B blocks (B = short
 * side / 16, at least 4 px: 18 px = 72 raw px at full size); blocks that stand out of their 3×3 neighbourhood's
 * median are replaced by it (so a defect covering a block or two does not leak into the background); then
 * bilinear interpolation between block centres. The grid is padded by linear extrapolation (g₋₁ = 2g₀ − g₁) and the border
 * pixels are extrapolated linearly too, so a plane — the coating's usual gradient — is reproduced exactly up to the
 * image's edge, where clamping would leave a half-block error.
 */
function backgroundSurface(data: Float32Array, W: number, H: number, q: number): Background {
  const B = Math.max(4, Math.round(Math.min(W, H) / 16));
  const nbx = Math.max(1, Math.round(W / B));
  const nby = Math.max(1, Math.round(H / B));
  const xEdges = edges(W, nbx);
  const yEdges = edges(H, nby);
  const blocks = new Float32Array(nbx * nby);
  const scratch = new Float32Array(Math.ceil(W / nbx + 1) * Math.ceil(H / nby + 1));
  for (let by = 0; by < nby; by++) {
    for (let bx = 0; bx < nbx; bx++) {
      let n = 0;
      for (let y = yEdges[by]; y < yEdges[by + 1]; y++) {
        const row = y * W;
        for (let x = xEdges[bx]; x < xEdges[bx + 1]; x++) scratch[n++] = data[row + x];
      }
      blocks[by * nbx + bx] = medianAndSigma(scratch.subarray(0, n), Infinity, q).median;
    }
  }

  // Pad by linear extrapolation, then 3×3 median.
  const pw = nbx + 2;
  const padded = new Float32Array(pw * (nby + 2));
  for (let by = 0; by < nby; by++) {
    for (let bx = 0; bx < nbx; bx++) padded[(by + 1) * pw + bx + 1] = blocks[by * nbx + bx];
    const row = (by + 1) * pw;
    padded[row] = nbx > 1 ? 2 * padded[row + 1] - padded[row + 2] : padded[row + 1];
    padded[row + nbx + 1] = nbx > 1 ? 2 * padded[row + nbx] - padded[row + nbx - 1] : padded[row + nbx];
  }
  for (let x = 0; x < pw; x++) {
    const top = pw + x;
    const bottom = nby * pw + x;
    padded[x] = nby > 1 ? 2 * padded[top] - padded[top + pw] : padded[top];
    padded[(nby + 1) * pw + x] = nby > 1 ? 2 * padded[bottom] - padded[bottom - pw] : padded[bottom];
  }
  // Blocks that stand out of their 3×3 neighbourhood by more than 3 robust spreads (a defect covering much of a
  // block, or 2×2 blocks) take the neighbourhood median; the others are kept, so smooth curvature (a bump, a bowl)
  // is followed at block resolution instead of being flattened by the median.
  const med3 = new Float32Array(nbx * nby);
  const nine = new Float32Array(9);
  for (let by = 0; by < nby; by++) {
    for (let bx = 0; bx < nbx; bx++) {
      let k = 0;
      for (let dy = 0; dy < 3; dy++)
        for (let dx = 0; dx < 3; dx++) nine[k++] = padded[(by + dy) * pw + bx + dx];
      med3[by * nbx + bx] = medianInPlace(nine);
    }
  }
  const dev = new Float32Array(nbx * nby);
  for (let i = 0; i < dev.length; i++) dev[i] = blocks[i] - med3[i];
  const spread = medianAndSigma(dev).sigma;
  const smooth = new Float32Array(nbx * nby);
  for (let i = 0; i < dev.length; i++) smooth[i] = Math.abs(dev[i]) > 3 * spread ? med3[i] : blocks[i];

  const cx = centres(xEdges);
  const cy = centres(yEdges);
  const [ix, tx] = interpolationIndex(cx, W);
  const [iy, ty] = interpolationIndex(cy, H);
  const surface = new Float32Array(W * H);
  const rowValues = new Float64Array(nbx);
  for (let y = 0; y < H; y++) {
    const a = iy[y] * nbx;
    const b = nby > 1 ? a + nbx : a;
    const t = ty[y];
    for (let bx = 0; bx < nbx; bx++) rowValues[bx] = smooth[a + bx] + t * (smooth[b + bx] - smooth[a + bx]);
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const i = ix[x];
      const j = nbx > 1 ? i + 1 : i;
      surface[row + x] = rowValues[i] + tx[x] * (rowValues[j] - rowValues[i]);
    }
  }
  return { surface, blocks, nbx, nby, cx, cy };
}

/** n + 1 integer boundaries splitting [0, size) into n nearly equal parts. */
function edges(size: number, n: number): Int32Array {
  const e = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) e[i] = Math.floor((i * size) / n);
  return e;
}

function centres(e: Int32Array): Float64Array {
  const c = new Float64Array(e.length - 1);
  for (let i = 0; i < c.length; i++) c[i] = (e[i] + e[i + 1] - 1) / 2;
  return c;
}

/** For each pixel: the left centre's index and the (possibly < 0 or > 1: extrapolating) fraction to the next. */
function interpolationIndex(c: Float64Array, size: number): [Int32Array, Float64Array] {
  const idx = new Int32Array(size);
  const frac = new Float64Array(size);
  if (c.length === 1) return [idx, frac];
  let i = 0;
  for (let p = 0; p < size; p++) {
    while (i < c.length - 2 && p > c[i + 1]) i++;
    idx[p] = i;
    frac[p] = (p - c[i]) / (c[i + 1] - c[i]);
  }
  return [idx, frac];
}

/**
 * What the residual removed: the background's plane fit over the block medians. `tilt` is the plane's level change
 * across the image (corner to corner, over the level), `rough` the robust spread of the block medians about the
 * plane and `devMax` their largest deviation (a blotch larger than two blocks), both over the level.
 */
function backgroundShape(
  bg: Background,
  W: number,
  H: number,
  level: number,
): { tilt: number; rough: number; devMax: number } {
  const { blocks, nbx, nby, cx, cy } = bg;
  // Least squares on centred coordinates u, v ∈ [−0.5, 0.5]: the normal equations decouple except for u·v.
  let n = 0,
    su = 0,
    sv = 0,
    sg = 0;
  for (let by = 0; by < nby; by++)
    for (let bx = 0; bx < nbx; bx++) {
      su += cx[bx] / W - 0.5;
      sv += cy[by] / H - 0.5;
      sg += blocks[by * nbx + bx];
      n++;
    }
  const mu = su / n,
    mv = sv / n,
    mg = sg / n;
  let suu = 0,
    svv = 0,
    suv = 0,
    sug = 0,
    svg = 0;
  for (let by = 0; by < nby; by++)
    for (let bx = 0; bx < nbx; bx++) {
      const u = cx[bx] / W - 0.5 - mu;
      const v = cy[by] / H - 0.5 - mv;
      const g = blocks[by * nbx + bx] - mg;
      suu += u * u;
      svv += v * v;
      suv += u * v;
      sug += u * g;
      svg += v * g;
    }
  const det = suu * svv - suv * suv;
  const a = det > 1e-12 ? (sug * svv - svg * suv) / det : suu > 1e-12 ? sug / suu : 0;
  const b = det > 1e-12 ? (svg * suu - sug * suv) / det : svv > 1e-12 ? svg / svv : 0;
  const dev = new Float32Array(nbx * nby);
  let devMax = 0;
  for (let by = 0; by < nby; by++)
    for (let bx = 0; bx < nbx; bx++) {
      const u = cx[bx] / W - 0.5 - mu;
      const v = cy[by] / H - 0.5 - mv;
      const d = blocks[by * nbx + bx] - mg - a * u - b * v;
      dev[by * nbx + bx] = d;
      devMax = Math.max(devMax, Math.abs(d));
    }
  const rough = medianAndSigma(dev).sigma;
  return { tilt: Math.hypot(a, b) / level, rough: rough / level, devMax: devMax / level };
}

// ---------------------------------------------------------------------------------------------------------------
// Maps and tails

/** 3×3 box mean, edges replicated. */
function box3(src: Float32Array, W: number, H: number): Float32Array {
  const tmp = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const l = x > 0 ? x - 1 : x;
      const r = x < W - 1 ? x + 1 : x;
      tmp[row + x] = src[row + l] + src[row + x] + src[row + r];
    }
  }
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const u = (y > 0 ? y - 1 : y) * W;
    const d = (y < H - 1 ? y + 1 : y) * W;
    const row = y * W;
    for (let x = 0; x < W; x++) out[row + x] = (tmp[u + x] + tmp[row + x] + tmp[d + x]) / 9;
  }
  return out;
}

const HIST_RANGE = 16;
const HIST_PER_UNIT = 128;

/**
 * Tail quantiles (nearest rank) of a z-map by a histogram of width 1/128 on [−16, 16) plus the exact values
 * outside it (few on any image): one pass and no sort of the whole map.
 */
function tailStats(z: Float32Array): {
  q001: number;
  q01: number;
  q99: number;
  q999: number;
  min: number;
  max: number;
  meanAbs: number;
  beyond3: number;
  beyond4: number;
  beyond6: number;
} {
  const bins = new Int32Array(2 * HIST_RANGE * HIST_PER_UNIT);
  const low: number[] = [];
  const high: number[] = [];
  let min = Infinity,
    max = -Infinity,
    sumAbs = 0,
    b3 = 0,
    b4 = 0,
    b6 = 0;
  for (let i = 0; i < z.length; i++) {
    const v = z[i];
    if (v < min) min = v;
    if (v > max) max = v;
    const a = Math.abs(v);
    sumAbs += a;
    if (a > 3) {
      b3++;
      if (a > 4) {
        b4++;
        if (a > 6) b6++;
      }
    }
    if (v < -HIST_RANGE) low.push(v);
    else if (v >= HIST_RANGE) high.push(v);
    else bins[Math.floor((v + HIST_RANGE) * HIST_PER_UNIT)]++;
  }
  low.sort((p, q) => p - q);
  high.sort((p, q) => p - q);
  const n = z.length;
  const quantile = (q: number): number => {
    let k = Math.max(1, Math.ceil(q * n)); // 1-based rank
    if (k <= low.length) return low[k - 1];
    k -= low.length;
    for (let b = 0; b < bins.length; b++) {
      if (k <= bins[b]) return (b + 0.5) / HIST_PER_UNIT - HIST_RANGE;
      k -= bins[b];
    }
    return high[Math.min(high.length, k) - 1];
  };
  return {
    q001: quantile(0.001),
    q01: quantile(0.01),
    q99: quantile(0.99),
    q999: quantile(0.999),
    min,
    max,
    meanAbs: sumAbs / n,
    beyond3: b3 / n,
    beyond4: b4 / n,
    beyond6: b6 / n,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Connected regions

/**
 * Regions of pixels with z > t ('pos'), z < −t ('neg') or |z| > t ('abs'), 8-connected, by an iterative flood
 * fill on typed arrays. Areas in working pixels.
 */
export function connectedRegions(
  z: Float32Array,
  W: number,
  H: number,
  mode: 'pos' | 'neg' | 'abs',
  t: number,
): { count: number; largest: number; total: number } {
  const mask = new Uint8Array(W * H);
  let any = 0;
  for (let i = 0; i < z.length; i++) {
    const v = z[i];
    const hit = mode === 'pos' ? v > t : mode === 'neg' ? v < -t : v > t || v < -t;
    if (hit) {
      mask[i] = 1;
      any++;
    }
  }
  if (any === 0) return { count: 0, largest: 0, total: 0 };
  const stack = new Int32Array(any);
  let count = 0,
    largest = 0;
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s]) continue;
    mask[s] = 0;
    let top = 0;
    stack[top++] = s;
    let area = 0;
    while (top > 0) {
      const p = stack[--top];
      area++;
      const y = (p / W) | 0;
      const x = p - y * W;
      const y0 = y > 0 ? y - 1 : 0;
      const y1 = y < H - 1 ? y + 1 : y;
      const x0 = x > 0 ? x - 1 : 0;
      const x1 = x < W - 1 ? x + 1 : x;
      for (let yy = y0; yy <= y1; yy++) {
        const row = yy * W;
        for (let xx = x0; xx <= x1; xx++) {
          const q = row + xx;
          if (mask[q]) {
            mask[q] = 0;
            stack[top++] = q;
          }
        }
      }
    }
    count++;
    if (area > largest) largest = area;
  }
  return { count, largest, total: any };
}

// ---------------------------------------------------------------------------------------------------------------
// Line profiles

interface ProfileSummary {
  /** Largest robust |z| of a line. */
  max: number;
  /** Lines with robust |z| > 4. */
  count: number;
  /** Spread of the line scores over what white noise would give (1 = none): banding, streaks. */
  excess: number;
}

/** z clipped to ±3 before averaging along lines, so one bright blob cannot pass for a line. */
const PROFILE_CLIP = 3;

/**
 * Row, column and diagonal profiles of the clipped z-map. A line's score is its sum over √n (unit variance for
 * white noise); scores are then robust-z'd across lines (median, 1.4826·MAD, floored at the white-noise spread),
 * so a scratch or detector line shows as an outlier among its neighbours. The background removal is the
 * detrending: the residual has no variation slower than ~2 blocks. Rows and columns are also scored in 4 segments
 * each, so a scratch over a quarter of the image is not diluted by the other three.
 */
function profileStats(
  z: Float32Array,
  W: number,
  H: number,
): {
  rows: ProfileSummary;
  cols: ProfileSummary;
  diag: ProfileSummary;
  rowSegmentsMax: number;
  colSegmentsMax: number;
} {
  const SEG = 4;
  const segX = edges(W, Math.min(SEG, W));
  const segY = edges(H, Math.min(SEG, H));
  const nsx = segX.length - 1;
  const nsy = segY.length - 1;
  const rowSeg = new Float64Array(H * nsx); // [segment][y]
  const colSeg = new Float64Array(W * nsy); // [segment][x]
  const d1 = new Float64Array(W + H - 1); // x + y
  const d2 = new Float64Array(W + H - 1); // x − y + H − 1
  let sumSq = 0;
  for (let y = 0; y < H; y++) {
    const row = y * W;
    const sy = segmentOf(segY, y);
    let s = 0;
    for (let x = 0; x < W; x++) {
      let v = z[row + x];
      v = v > PROFILE_CLIP ? PROFILE_CLIP : v < -PROFILE_CLIP ? -PROFILE_CLIP : v;
      sumSq += v * v;
      if (x === segX[s + 1]) s++;
      rowSeg[s * H + y] += v;
      colSeg[sy * W + x] += v;
      d1[x + y] += v;
      d2[x - y + H - 1] += v;
    }
  }
  // Spread of one clipped pixel; for white noise a line sum over √n then has this standard deviation.
  const pixelSd = Math.sqrt(sumSq / (W * H)) || 1;

  const rowScores = new Float32Array(H);
  for (let s = 0; s < nsx; s++) for (let y = 0; y < H; y++) rowScores[y] += rowSeg[s * H + y];
  for (let y = 0; y < H; y++) rowScores[y] /= Math.sqrt(W);
  const colScores = new Float32Array(W);
  for (let s = 0; s < nsy; s++) for (let x = 0; x < W; x++) colScores[x] += colSeg[s * W + x];
  for (let x = 0; x < W; x++) colScores[x] /= Math.sqrt(H);

  let rowSegmentsMax = 0;
  for (let s = 0; s < nsx; s++) {
    const scores = new Float32Array(H);
    const len = Math.sqrt(segX[s + 1] - segX[s]);
    for (let y = 0; y < H; y++) scores[y] = rowSeg[s * H + y] / len;
    rowSegmentsMax = Math.max(rowSegmentsMax, outliers(scores, pixelSd).max);
  }
  let colSegmentsMax = 0;
  for (let s = 0; s < nsy; s++) {
    const scores = new Float32Array(W);
    const len = Math.sqrt(segY[s + 1] - segY[s]);
    for (let x = 0; x < W; x++) scores[x] = colSeg[s * W + x] / len;
    colSegmentsMax = Math.max(colSegmentsMax, outliers(scores, pixelSd).max);
  }

  // Diagonals long enough to be lines: at least half the short side.
  const minLen = Math.max(2, Math.floor(Math.min(W, H) / 2));
  const diagScores: number[] = [];
  for (let k = 0; k < W + H - 1; k++) {
    const len = Math.min(k + 1, W, H, W + H - 1 - k); // length of the diagonal x + y = k (and of x − y = k − H + 1)
    if (len < minLen) continue;
    diagScores.push(d1[k] / Math.sqrt(len), d2[k] / Math.sqrt(len));
  }
  return {
    rows: outliers(rowScores, pixelSd),
    cols: outliers(colScores, pixelSd),
    diag: outliers(Float32Array.from(diagScores), pixelSd),
    rowSegmentsMax,
    colSegmentsMax,
  };
}

function segmentOf(e: Int32Array, p: number): number {
  let s = 0;
  while (p >= e[s + 1]) s++;
  return s;
}

function outliers(scores: Float32Array, whiteSd: number): ProfileSummary {
  if (scores.length < 3) return { max: 0, count: 0, excess: 1 };
  const { median, sigma } = medianAndSigma(scores);
  const sd = Math.max(sigma, whiteSd);
  let max = 0,
    count = 0;
  for (let i = 0; i < scores.length; i++) {
    const a = Math.abs(scores[i] - median) / sd;
    if (a > max) max = a;
    if (a > 4) count++;
  }
  return { max, count, excess: Math.max(sigma, 1e-6) / whiteSd };
}

// ---------------------------------------------------------------------------------------------------------------
// Edge bands

/**
 * Each side's outer band (`t` px thick) against what the two strips just inside it (same thickness) predict by
 * linear extrapolation, position by position along the side (corners excluded): d(p) = band(p) − (2·s₁(p) − s₂(p)),
 * each a mean over the thickness. Predicting from the adjacent interior rather than comparing with the whole
 * interior keeps the coating's gradients out (a plane gives d = 0 exactly). Per side: the median of d in units of σ (level difference),
 * the robust spread of d's first differences over what noise gives (roughness: a ragged cut), the largest robust
 * deviation of d from its median, at single positions or over 5 (a local notch or flow), the band's pixel noise over the interior's, and the
 * band's largest |z|. Pooled over the four sides by min/max (flip-invariant).
 */
function edgeStats(
  data: Float32Array,
  z: Float32Array,
  W: number,
  H: number,
  t: number,
  sigma: number,
  interiorNoise: number,
  step: number,
  q: number,
): {
  levelMin: number;
  levelMax: number;
  noiseRatioMin: number;
  noiseRatioMax: number;
  roughMax: number;
  devMax: number;
  zMax: number;
} {
  const none = {
    levelMin: 0,
    levelMax: 0,
    noiseRatioMin: 1,
    noiseRatioMax: 1,
    roughMax: 1,
    devMax: 0,
    zMax: 0,
  };
  if (W < 6 * t + 3 || H < 6 * t + 3) return none;
  const res = { ...none, levelMin: Infinity, levelMax: -Infinity, noiseRatioMin: Infinity, noiseRatioMax: 0 };
  // Per side: index of the pixel at position p along the side and depth d from the edge = base + p·ps + d·ds.
  const sides = [
    { n: W - 2 * t, base: t, ps: 1, ds: W, rect: { x0: 0, x1: W, y0: 0, y1: t } },
    { n: W - 2 * t, base: (H - 1) * W + t, ps: 1, ds: -W, rect: { x0: 0, x1: W, y0: H - t, y1: H } },
    { n: H - 2 * t, base: t * W, ps: W, ds: 1, rect: { x0: 0, x1: t, y0: 0, y1: H } },
    { n: H - 2 * t, base: t * W + W - 1, ps: W, ds: -1, rect: { x0: W - t, x1: W, y0: 0, y1: H } },
  ];
  for (const side of sides) {
    const diff = new Float32Array(side.n);
    for (let p = 0; p < side.n; p++) {
      const i0 = side.base + p * side.ps;
      let band = 0,
        s1 = 0,
        s2 = 0;
      for (let d = 0; d < t; d++) {
        band += data[i0 + d * side.ds];
        s1 += data[i0 + (d + t) * side.ds];
        s2 += data[i0 + (d + 2 * t) * side.ds];
      }
      diff[p] = (band - 2 * s1 + s2) / t;
    }
    const { median, sigma: spread } = medianAndSigma(diff);
    const steps = new Float32Array(side.n - 1);
    for (let p = 0; p + 1 < side.n; p++) steps[p] = diff[p + 1] - diff[p];
    // d(p) carries noise σ·√(6/t) (weights 1, −2, 1 on means of t pixels); its first differences σ·√(12/t).
    const rough = medianAndSigma(steps).sigma / (sigma * Math.sqrt(12 / t));
    // Deviations at two scales along the side: single positions, and a running mean over 5 (a notch or flow a few
    // positions long, with √5 less noise).
    let dev = maxDeviation(diff, median, Math.max(spread, sigma * Math.sqrt(6 / t)));
    const smooth = runningMean(diff, EDGE_SMOOTH);
    const s5 = medianAndSigma(smooth);
    dev = Math.max(
      dev,
      maxDeviation(smooth, s5.median, Math.max(s5.sigma, sigma * Math.sqrt(6 / t / EDGE_SMOOTH))),
    );
    const bandNoise = laplacianNoise(data, W, H, step, side.rect, q);
    const ratio = interiorNoise > 0 && bandNoise > 0 ? bandNoise / interiorNoise : 1;
    let zMax = 0;
    for (let y = side.rect.y0; y < side.rect.y1; y++)
      for (let x = side.rect.x0; x < side.rect.x1; x++) zMax = Math.max(zMax, Math.abs(z[y * W + x]));

    res.levelMin = Math.min(res.levelMin, median / sigma);
    res.levelMax = Math.max(res.levelMax, median / sigma);
    res.noiseRatioMin = Math.min(res.noiseRatioMin, ratio);
    res.noiseRatioMax = Math.max(res.noiseRatioMax, ratio);
    res.roughMax = Math.max(res.roughMax, rough > 0 ? rough : 1e-3);
    res.devMax = Math.max(res.devMax, dev);
    res.zMax = Math.max(res.zMax, zMax);
  }
  return res;
}

const EDGE_SMOOTH = 5;

function maxDeviation(a: Float32Array, centre: number, scale: number): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - centre) / scale);
  return m;
}

/** Running mean over `k` positions (fewer at the ends). */
function runningMean(a: Float32Array, k: number): Float32Array {
  const out = new Float32Array(a.length);
  const h = k >> 1;
  for (let i = 0; i < a.length; i++) {
    const lo = Math.max(0, i - h);
    const hi = Math.min(a.length - 1, i + h);
    let s = 0;
    for (let j = lo; j <= hi; j++) s += a[j];
    out[i] = s / (hi - lo + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Level

/** Robust location and interquartile range of the interior (the image without its edge bands), working units. */
function interiorLevel(
  data: Float32Array,
  W: number,
  H: number,
  t: number,
  q: number,
): { median: number; iqr: number } {
  const x0 = W > 2 * t + 2 ? t : 0;
  const y0 = H > 2 * t + 2 ? t : 0;
  const iw = W - 2 * x0;
  const values = new Float32Array(iw * (H - 2 * y0));
  for (let y = y0; y < H - y0; y++) values.set(data.subarray(y * W + x0, y * W + x0 + iw), (y - y0) * iw);
  // The location is the median refined by a clipped mean (robust.ts): an 8-bit median alone moves in whole LSBs.
  const location = medianAndSigma(values, SCALE_SAMPLES, q).median;
  quantileInPlace(values, 0.5);
  // After selecting the median, the lower quartile lies in the lower half and the upper in the upper half.
  const half = Math.ceil(0.5 * values.length);
  const q25 = quantileInPlace(values.subarray(0, half), 0.5);
  const q75 = quantileInPlace(values.subarray(half - 1), 0.5);
  return { median: location, iqr: q75 - q25 };
}

// ---------------------------------------------------------------------------------------------------------------
// Grid

/** Per-cell mean |z|, max |z|, mean z and share beyond |z| > 3 over a gx × gy grid, pooled over cells. */
function gridStats(
  z: Float32Array,
  W: number,
  H: number,
  gx: number,
  gy: number,
): {
  meanAbsMax: number;
  meanAbsSpread: number;
  maxAbsMedian: number;
  maxAbsMax: number;
  meanMax: number;
  meanMin: number;
  beyond3Max: number;
} {
  const xe = edges(W, gx);
  const ye = edges(H, gy);
  const cells = gx * gy;
  const meanAbs = new Float32Array(cells);
  const maxAbs = new Float32Array(cells);
  const mean = new Float32Array(cells);
  const beyond = new Float32Array(cells);
  for (let cy = 0; cy < gy; cy++) {
    for (let cx = 0; cx < gx; cx++) {
      let sa = 0,
        s = 0,
        mx = 0,
        b = 0;
      for (let y = ye[cy]; y < ye[cy + 1]; y++) {
        const row = y * W;
        for (let x = xe[cx]; x < xe[cx + 1]; x++) {
          const v = z[row + x];
          const a = Math.abs(v);
          s += v;
          sa += a;
          if (a > mx) mx = a;
          if (a > 3) b++;
        }
      }
      const n = (ye[cy + 1] - ye[cy]) * (xe[cx + 1] - xe[cx]);
      const c = cy * gx + cx;
      meanAbs[c] = sa / n;
      maxAbs[c] = mx;
      mean[c] = s / n;
      beyond[c] = b / n;
    }
  }
  const medMeanAbs = medianInPlace(meanAbs.slice());
  const medMaxAbs = medianInPlace(maxAbs.slice());
  return {
    meanAbsMax: Math.max(...meanAbs),
    meanAbsSpread: Math.max(...meanAbs) - medMeanAbs,
    maxAbsMedian: medMaxAbs,
    maxAbsMax: Math.max(...maxAbs),
    meanMax: Math.max(...mean),
    meanMin: Math.min(...mean),
    beyond3Max: Math.max(...beyond),
  };
}

let cachedNames: readonly string[] | null = null;

/** The feature names, in order, without an image (e.g. to size a feature matrix or label a model version). */
export function residualFeatureNames(): readonly string[] {
  cachedNames ??= Object.freeze(
    residualEvidence({ width: 32, height: 32, factor: 1, bitDepth: 8, data: new Float32Array(32 * 32) })
      .names,
  );
  return cachedNames;
}
