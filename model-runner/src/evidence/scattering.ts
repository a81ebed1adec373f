/**
 * A 2-D wavelet scattering transform, orders 0, 1 and 2 (Mallat 2012, "Group invariant scattering"; Bruna &
 * Mallat 2013, "Invariant scattering convolution networks", section 3), built as an ONNX graph with fixed weights:
 *
 *   S0 x = x ⋆ φ,   S1 x(j, θ) = |x ⋆ ψ_{j,θ}| ⋆ φ,   S2 x(j1, θ1, j2, θ2) = ||x ⋆ ψ_{j1,θ1}| ⋆ ψ_{j2,θ2}| ⋆ φ,  j1 < j2.
 *
 * Filters: Kymatio's `scattering2d/filter_bank.py` formulas, written anew here. ψ_{j,θ} is a Morlet wavelet
 * (Gabor minus a Gaussian, so its sum is exactly zero) with σ = 0.8·2^j, ξ = 3π/(4·2^j), slant 4/L, orientation
 * θ_l = (⌊L/2⌋ − 1 − l)·π/L, the Gaussian envelope normalised by 2πσ²/slant (so it sums to ≈ 1); φ is the
 * isotropic Gaussian of Kymatio's low-pass, σ = 0.8·2^(J−1), normalised to sum 1.
 *
 * Resolution (our choice; Kymatio subsamples by 2^J): every output is at stride 2^(J−1) of the input, i.e.
 * h = ⌈H/2^(J−1)⌉, w = ⌈W/2^(J−1)⌉ — 36×65 for a 288×518 working image, about the viewer heatmap's 64 cells
 * across. φ keeps Kymatio's width, so each output pixel averages over σ = 0.8 output pixels: a defect of a few
 * working pixels lands in one or two output pixels instead of being spread over Kymatio's 2^J grid.
 *
 * Subsampling convention (the one the reference in scattering.test.ts reproduces): U1_j = |x ⋆ ψ_j| is kept at
 * stride 2^ℓ1(j), ℓ1(j) = min(j + 1, J − 1) — one level coarser than Kymatio's 2^j, which halves the cost of the
 * fine scales; like Kymatio we subsample the modulus without further low-pass. Second-order wavelets are the Morlet
 * formula sampled on U1_j1's own grid (as Kymatio periodises its filters to the resolution of U1), U2 at stride
 * 2^min(j2 + 1, J − 1).
 *
 * Multi-resolution implementation (why: ψ_3 at full resolution needs a 65×65 kernel, 50× the work): a wavelet of
 * scale j is applied on the coarsest pyramid level where it is still well sampled — level j − 1, where it has
 * σ = 1.6 pixels and a 17×17 kernel (9×9 at level 0 for j = 0) — with a strided Conv to land on its output level.
 * Pyramid levels are a separable 31-tap Hamming-windowed half-band low-pass and stride 2, with reflect padding
 * (ONNX Pad mode `reflect`, numpy's 'reflect': the edge pixel is not repeated) before every Conv. Complex
 * convolutions are Conv ops with the real and imaginary parts as interleaved output channels; the modulus is
 * Mul, a grouped 1×1 Conv that sums each (re², im²) pair, and Sqrt. Only Pad, Conv, Mul, Sqrt and Concat: the
 * graph runs on onnxruntime's CPU and WebGPU providers. The pyramid is the only approximation to the direct
 * definition; its error is measured in scattering.test.ts.
 */
import { GraphBuilder } from '../onnx/graph.ts';

export interface ScatteringConfig {
  /** Number of scales, j = 0 … J − 1. */
  J: number;
  /** Number of orientations in [0, π). */
  L: number;
}

export const SCATTERING_DEFAULTS: ScatteringConfig = { J: 4, L: 8 };

/** Output stride of every map: 2^(J−1). */
export const scatteringStride = (config: ScatteringConfig = SCATTERING_DEFAULTS): number =>
  2 ** Math.max(0, config.J - 1);

/** Output map size for an H × W input: ⌈H/2^(J−1)⌉ × ⌈W/2^(J−1)⌉ (every stride-s Conv gives ⌈n/s⌉). */
export function scatteringOutputSize(
  height: number,
  width: number,
  config: ScatteringConfig = SCATTERING_DEFAULTS,
): { h: number; w: number } {
  const s = scatteringStride(config);
  return { h: Math.ceil(height / s), w: Math.ceil(width / s) };
}

/** Number of second-order channels: L²·J(J−1)/2 ordered pairs (θ1, θ2) for each j1 < j2. */
export const secondOrderCount = (config: ScatteringConfig = SCATTERING_DEFAULTS): number =>
  (config.L * config.L * config.J * (config.J - 1)) / 2;

/** Index of the scale pair (j1, j2), j1 < j2, in s2's pair-major channel order. */
export function pairIndex(j1: number, j2: number, J: number): number {
  let k = 0;
  for (let a = 0; a < J; a++)
    for (let b = a + 1; b < J; b++) {
      if (a === j1 && b === j2) return k;
      k++;
    }
  throw new Error(`no scale pair (${j1}, ${j2}) for J=${J}`);
}

/** Kymatio's orientation of index l: (⌊L/2⌋ − 1 − l)·π/L, which spans an interval of length π. */
export const orientation = (l: number, L: number): number => ((Math.floor(L / 2) - 1 - l) * Math.PI) / L;

// ---------------------------------------------------------------------------------------------
// Filters

/** A complex kernel of (2r+1)² taps, row-major, centred (index r, r is the origin). */
export interface ComplexKernel {
  radius: number;
  re: Float64Array;
  im: Float64Array;
}

/**
 * Half-width of a Morlet kernel: 2.5 standard deviations along the envelope's long axis (σ/slant). The envelope
 * is 4 % of its peak there; the mass beyond is about 1 %.
 */
export const morletRadius = (sigma: number, slant: number): number => Math.ceil((2.5 * sigma) / slant);

/**
 * Kymatio's `gabor_2d` sampled on a (2r+1)² grid around the origin, without periodisation (our kernels are
 * small and the image is padded instead): g(u) = exp(−uᵀ R D R⁻¹ u / 2σ² + i ξ (u_row cos θ + u_col sin θ))
 * / (2πσ²/slant), D = diag(1, slant²), u = (row, col) offset.
 */
export function gabor2d(
  sigma: number,
  theta: number,
  xi: number,
  slant: number,
  radius: number,
): ComplexKernel {
  const n = 2 * radius + 1;
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  // curv = R D R⁻¹ / (2σ²)
  const k = 1 / (2 * sigma * sigma);
  const a = (c * c + slant * slant * s * s) * k;
  const b = (c * s - slant * slant * c * s) * k; // off-diagonal, appears twice in the quadratic form
  const d = (s * s + slant * slant * c * c) * k;
  const norm = 1 / ((2 * Math.PI * sigma * sigma) / slant);
  for (let y = -radius; y <= radius; y++)
    for (let x = -radius; x <= radius; x++) {
      const env = Math.exp(-(a * y * y + 2 * b * y * x + d * x * x)) * norm;
      const phase = xi * (y * c + x * s);
      const i = (y + radius) * n + (x + radius);
      re[i] = env * Math.cos(phase);
      im[i] = env * Math.sin(phase);
    }
  return { radius, re, im };
}

/**
 * Kymatio's `morlet_2d`: the Gabor minus K times its envelope, K = Σ gabor / Σ envelope, so the kernel sums to
 * exactly zero on its own support (a band-pass filter: a constant image gives a zero response).
 */
export function morlet2d(
  sigma: number,
  theta: number,
  xi: number,
  slant: number,
  radius?: number,
): ComplexKernel {
  const r = radius ?? morletRadius(sigma, slant);
  const g = gabor2d(sigma, theta, xi, slant, r);
  const env = gabor2d(sigma, theta, 0, slant, r);
  let sre = 0;
  let sim = 0;
  let senv = 0;
  for (let i = 0; i < g.re.length; i++) {
    sre += g.re[i];
    sim += g.im[i];
    senv += env.re[i];
  }
  const kre = sre / senv;
  const kim = sim / senv;
  for (let i = 0; i < g.re.length; i++) {
    g.re[i] -= kre * env.re[i];
    g.im[i] -= kim * env.re[i];
  }
  return g;
}

/**
 * The wavelet ψ_{j,l} sampled on the grid of pyramid level `level` (pixel spacing 2^level): σ and ξ in that
 * grid's units. Kymatio's 1/(2πσ²/slant) in the level's own units carries the 4^level factor that makes a
 * convolution on the level approximate the full-resolution one.
 */
export function waveletAtLevel(j: number, l: number, L: number, level: number): ComplexKernel {
  const sigma = 0.8 * 2 ** (j - level);
  const xi = ((3 / 4) * Math.PI) / 2 ** (j - level);
  return morlet2d(sigma, orientation(l, L), xi, 4 / L);
}

/** A 1-D Gaussian of standard deviation σ, 3σ half-width, normalised to sum 1 (φ is its separable square). */
export function gaussian1d(sigma: number): Float64Array {
  const r = Math.ceil(3 * sigma);
  const g = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += g[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < g.length; i++) g[i] /= sum;
  return g;
}

/** φ's standard deviation, in pixels of pyramid level `level`: Kymatio's 0.8·2^(J−1) at full resolution. */
export const phiSigmaAtLevel = (J: number, level: number): number => 0.8 * 2 ** (J - 1 - level);

/** Half-width of the pyramid's anti-alias filter. */
export const HALF_BAND_RADIUS = 15;

/**
 * The pyramid's anti-alias filter: the ideal half-band low-pass sin(πk/2)/(πk) under a Hamming window, 31 taps,
 * normalised to sum 1. Transition ≈ 6.6π/31 ≈ 0.67 rad around π/2: flat to ≈ 1.24 rad, where the wavelets of
 * the next level end (ξ + 2σ_ω = (3π/4 + 2.5)/2^j), and −53 dB from ≈ 1.9 rad, where their aliases begin.
 */
export function halfBand(radius = HALF_BAND_RADIUS): Float64Array {
  const h = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    const ideal = k === 0 ? 0.5 : Math.sin((Math.PI * k) / 2) / (Math.PI * k);
    const window = 0.54 + 0.46 * Math.cos((Math.PI * k) / radius);
    sum += h[k + radius] = ideal * window;
  }
  for (let i = 0; i < h.length; i++) h[i] /= sum;
  return h;
}

// ---------------------------------------------------------------------------------------------
// Subsampling plan (shared by the graph and the test's direct reference)

/** Pyramid level (stride exponent) of U1_j: min(j + 1, J − 1). */
export const firstOrderLevel = (j: number, J: number): number => Math.min(j + 1, Math.max(0, J - 1));

/** Pyramid level of x on which ψ_j is applied: j − 1 (σ = 1.6 px there), or 0 for j = 0. */
export const firstOrderInputLevel = (j: number): number => Math.max(0, j - 1);

/** Pyramid level of U1_j1 on which ψ_j2 is applied: U1's own level, or j2 − 1 if that is coarser. */
export const secondOrderInputLevel = (j1: number, j2: number, J: number): number =>
  Math.max(firstOrderLevel(j1, J), j2 - 1);

/** Smallest input side the graph accepts: every reflect pad must be shorter than the side it pads. */
export function scatteringMinSize(config: ScatteringConfig = SCATTERING_DEFAULTS): number {
  const { J, L } = config;
  const K = Math.max(0, J - 1);
  const need: Array<[level: number, radius: number]> = [[0, Math.ceil(3 * phiSigmaAtLevel(J, 0))]];
  for (let j = 0; j < J; j++) {
    need.push([firstOrderInputLevel(j), waveletAtLevel(j, 0, L, firstOrderInputLevel(j)).radius]);
    const l1 = firstOrderLevel(j, J);
    need.push([l1, Math.ceil(3 * phiSigmaAtLevel(J, l1))]);
    for (let j2 = j + 1; j2 < J; j2++) {
      const b = secondOrderInputLevel(j, j2, J);
      need.push([b, waveletAtLevel(j2, 0, L, b).radius]);
      const l2 = firstOrderLevel(j2, J);
      need.push([l2, Math.ceil(3 * phiSigmaAtLevel(J, l2))]);
    }
  }
  for (let level = 0; level < K - 1; level++) need.push([level, HALF_BAND_RADIUS]);
  // A level-ℓ side of ⌈n/2^ℓ⌉ must exceed the radius: n > 2^ℓ·r.
  return Math.max(...need.map(([level, r]) => 2 ** level * r + 1));
}

// ---------------------------------------------------------------------------------------------
// The ONNX graph

export const SCATTERING_META = { kind: 'platina.evidence', config: 'platina.evidence.scattering' } as const;

/**
 * The scattering transform as an ONNX model. Input `image` float32 [N, 1, H, W] (dynamic; H, W ≥
 * {@link scatteringMinSize}, 33 for J = 4). Outputs at h = ⌈H/2^(J−1)⌉, w = ⌈W/2^(J−1)⌉:
 * `s0` [N, 1, h, w]; `s1` [N, J·L, h, w], channel j·L + l; `s2` [N, L²·J(J−1)/2, h, w], channel
 * pairIndex(j1, j2)·L² + l1·L + l2.
 */
export function buildScatteringModel(config: ScatteringConfig = SCATTERING_DEFAULTS): Uint8Array {
  const { J, L } = config;
  if (!Number.isInteger(J) || J < 1 || !Number.isInteger(L) || L < 2 || L % 2 !== 0)
    throw new Error(`scattering config J=${J}, L=${L}: need integer J ≥ 1 and even L ≥ 2`);
  const K = J - 1;
  const g = new GraphBuilder('scattering');
  const x = g.input('image', 'float32', ['N', 1, 'H', 'W']);

  const pad = (v: string, top: number, left: number): string =>
    top === 0 && left === 0
      ? v
      : g.op('Pad', [v, g.int64s([0, 0, top, left, 0, 0, top, left], 'pads')], { mode: 'reflect' });

  /** Separable symmetric filter `taps` on each of `channels` channels (depthwise), strides (sy, sx). */
  const separable = (
    v: string,
    channels: number,
    taps: Float64Array,
    sy: number,
    sx: number,
    name: string,
  ) => {
    const r = (taps.length - 1) / 2;
    const w = Float32Array.from({ length: channels * taps.length }, (_, i) => taps[i % taps.length]);
    const wx = g.float32s(w, [channels, 1, 1, taps.length], `${name}.wx`);
    const wy = g.float32s(w, [channels, 1, taps.length, 1], `${name}.wy`);
    const h = g.op('Conv', [pad(v, 0, r), wx], { group: channels, strides: [1, sx] });
    return g.op('Conv', [pad(h, r, 0), wy], { group: channels, strides: [sy, 1] });
  };
  const lowpass = halfBand();
  const decimate = (v: string, channels: number, name: string) => separable(v, channels, lowpass, 2, 2, name);
  /** φ from level `level` to level K. */
  const average = (v: string, channels: number, level: number, name: string) => {
    const s = 2 ** (K - level);
    return separable(v, channels, gaussian1d(phiSigmaAtLevel(J, level)), s, s, name);
  };

  /**
   * |v ⋆ ψ_{j,l}| for every channel of v (`groups` input channels) and every l, psi sampled at `level`, stride
   * `stride`. Output channel c·L + l. ONNX Conv is a correlation, so the kernel is flipped to convolve.
   */
  const waveletModulus = (
    v: string,
    groups: number,
    j: number,
    level: number,
    stride: number,
    name: string,
  ) => {
    const kernels = Array.from({ length: L }, (_, l) => waveletAtLevel(j, l, L, level));
    const r = kernels[0].radius;
    const n = 2 * r + 1;
    const w = new Float32Array(groups * 2 * L * n * n);
    for (let c = 0; c < groups; c++)
      for (let l = 0; l < L; l++)
        for (let i = 0; i < n * n; i++) {
          const flipped = n * n - 1 - i;
          w[((c * L + l) * 2 + 0) * n * n + i] = kernels[l].re[flipped];
          w[((c * L + l) * 2 + 1) * n * n + i] = kernels[l].im[flipped];
        }
    const wi = g.float32s(w, [groups * 2 * L, 1, n, n], `${name}.psi`);
    const z = g.op('Conv', [pad(v, r, r), wi], { group: groups, strides: [stride, stride] });
    const sq = g.op('Mul', [z, z]);
    const ones = g.float32s(new Float32Array(groups * L * 2).fill(1), [groups * L, 2, 1, 1], `${name}.pairs`);
    return g.op('Sqrt', [g.op('Conv', [sq, ones], { group: groups * L })]);
  };

  // Pyramid of x: levels 0 … K−1 (ψ_j for j ≥ 1 is applied on level j − 1 ≤ K − 1).
  const pyramid = [x];
  for (let level = 1; level < K; level++) pyramid.push(decimate(pyramid[level - 1], 1, `x.level${level}`));

  const s0 = average(x, 1, 0, 's0.phi');
  g.op('Identity', [s0], {}, { output: 's0' });

  const u1: string[] = [];
  const s1: string[] = [];
  for (let j = 0; j < J; j++) {
    const a = firstOrderInputLevel(j);
    const l1 = firstOrderLevel(j, J);
    u1.push(waveletModulus(pyramid[a], 1, j, a, 2 ** (l1 - a), `u1.j${j}`));
    s1.push(average(u1[j], L, l1, `s1.j${j}.phi`));
  }
  g.op(J > 1 ? 'Concat' : 'Identity', s1, J > 1 ? { axis: 1 } : {}, { output: 's1' });

  const s2: string[] = [];
  for (let j1 = 0; j1 < J; j1++) {
    // U1_j1 decimated level by level as the coarser j2 need it.
    const levels = new Map<number, string>([[firstOrderLevel(j1, J), u1[j1]]]);
    const at = (level: number): string => {
      let v = levels.get(level);
      if (!v) {
        v = decimate(at(level - 1), L, `u1.j${j1}.level${level}`);
        levels.set(level, v);
      }
      return v;
    };
    for (let j2 = j1 + 1; j2 < J; j2++) {
      const b = secondOrderInputLevel(j1, j2, J);
      const l2 = firstOrderLevel(j2, J);
      const u2 = waveletModulus(at(b), L, j2, b, 2 ** (l2 - b), `u2.j${j1}.j${j2}`);
      s2.push(average(u2, L * L, l2, `s2.j${j1}.j${j2}.phi`));
    }
  }
  if (s2.length > 0)
    g.op(s2.length > 1 ? 'Concat' : 'Identity', s2, s2.length > 1 ? { axis: 1 } : {}, { output: 's2' });
  else {
    // J = 1: no pair; an empty [N, 0, h, w] keeps the output list fixed.
    g.op('Slice', [s0, g.int64s([0]), g.int64s([0]), g.int64s([1])], {}, { output: 's2' });
  }

  g.output('s0', 'float32', ['N', 1, 'h', 'w']);
  g.output('s1', 'float32', ['N', J * L, 'h', 'w']);
  g.output('s2', 'float32', ['N', secondOrderCount(config), 'h', 'w']);
  return g.toBytes({
    docString: `wavelet scattering J=${J} L=${L}, orders 0-2, stride ${2 ** K}`,
    metadata: { [SCATTERING_META.kind]: 'scattering', [SCATTERING_META.config]: JSON.stringify({ J, L }) },
  });
}

// ---------------------------------------------------------------------------------------------
// Pooling

/** The maps of one image (N = 1), as the graph outputs them. */
export interface ScatteringMaps {
  s0: Float32Array;
  s1: Float32Array;
  s2: Float32Array;
  h: number;
  w: number;
}

/** Cells of the spatial grid: 4 along the long side, 2 along the short side. */
export const GRID_CELLS = { long: 4, short: 2 } as const;

/**
 * Value at quantile q (nearest rank) of `scratch`, which is reordered in place: Hoare's quickselect, O(n) — a full
 * sort of each map cost most of the pooling time. Successive calls with increasing q reuse the partition.
 */
function quantileSelect(scratch: Float32Array, q: number): number {
  const k = Math.min(scratch.length - 1, Math.max(0, Math.round(q * (scratch.length - 1))));
  let lo = 0;
  let hi = scratch.length - 1;
  while (lo < hi) {
    const pivot = scratch[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (scratch[i] < pivot) i++;
      while (scratch[j] > pivot) j--;
      if (i <= j) {
        const t = scratch[i];
        scratch[i++] = scratch[j];
        scratch[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return scratch[k];
}

function extremes(map: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of map) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * Means of the grid cells of an h × w map. Pixel (y, x) belongs to cell ⌊(y + ½)·rows/h⌋, ⌊(x + ½)·cols/w⌋:
 * measured from pixel centres, the partition is mirror-symmetric, so a flipped map has the same set of cells.
 */
function cellMeans(map: Float32Array, h: number, w: number): Float64Array {
  const rows = Math.min(h, w >= h ? GRID_CELLS.short : GRID_CELLS.long);
  const cols = Math.min(w, w >= h ? GRID_CELLS.long : GRID_CELLS.short);
  const sum = new Float64Array(rows * cols);
  const count = new Float64Array(rows * cols);
  for (let y = 0; y < h; y++) {
    const cy = Math.min(rows - 1, Math.floor(((y + 0.5) * rows) / h));
    for (let x = 0; x < w; x++) {
      const c = cy * cols + Math.min(cols - 1, Math.floor(((x + 0.5) * cols) / w));
      sum[c] += map[y * w + x];
      count[c]++;
    }
  }
  for (let c = 0; c < sum.length; c++) sum[c] /= count[c];
  return sum;
}

function moments(map: Float32Array): { mean: number; std: number } {
  let s = 0;
  let ss = 0;
  for (const v of map) s += v;
  const mean = s / map.length;
  for (const v of map) ss += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(ss / map.length) };
}

/**
 * Orientation-pooled maps of one image: `s1.j{j}.mean` and `s1.j{j}.omax` (mean and max over the L orientations
 * at each pixel), and `s2.j{j1}.j{j2}.d{d}` (mean over the pairs whose orientation difference is d·π/L, d =
 * 0 … L/2, folded so that d and L − d are one group). A horizontal or vertical flip maps θ to −θ, which
 * permutes the orientations and keeps |θ1 − θ2|: every pooled map of a flipped image is the flipped map.
 */
export function orientationPooledMaps(
  maps: ScatteringMaps,
  config: ScatteringConfig = SCATTERING_DEFAULTS,
): Array<{ name: string; data: Float32Array }> {
  const { J, L } = config;
  const n = maps.h * maps.w;
  const out: Array<{ name: string; data: Float32Array }> = [];
  for (let j = 0; j < J; j++) {
    const mean = new Float32Array(n);
    const omax = new Float32Array(n);
    for (let l = 0; l < L; l++) {
      const c = maps.s1.subarray((j * L + l) * n, (j * L + l + 1) * n);
      for (let i = 0; i < n; i++) {
        mean[i] += c[i] / L;
        if (c[i] > omax[i]) omax[i] = c[i];
      }
    }
    out.push({ name: `s1.j${j}.mean`, data: mean }, { name: `s1.j${j}.omax`, data: omax });
  }
  // Group of each (θ1, θ2): d = min(|l2 − l1| mod L, L − …); the pairs of one group are averaged.
  const group = new Int32Array(L * L);
  const counts = new Array<number>(L / 2 + 1).fill(0);
  for (let l1 = 0; l1 < L; l1++)
    for (let l2 = 0; l2 < L; l2++) {
      const diff = (((l2 - l1) % L) + L) % L;
      group[l1 * L + l2] = Math.min(diff, L - diff);
      counts[group[l1 * L + l2]]++;
    }
  for (let j1 = 0; j1 < J; j1++)
    for (let j2 = j1 + 1; j2 < J; j2++) {
      const base = pairIndex(j1, j2, J) * L * L;
      const groups = Array.from({ length: L / 2 + 1 }, () => new Float32Array(n));
      for (let p = 0; p < L * L; p++) {
        const g = groups[group[p]];
        const offset = (base + p) * n;
        const s2 = maps.s2;
        for (let i = 0; i < n; i++) g[i] += s2[offset + i];
      }
      groups.forEach((data, d) => {
        const inv = 1 / counts[d];
        for (let i = 0; i < n; i++) data[i] *= inv;
        out.push({ name: `s2.j${j1}.j${j2}.d${d}`, data });
      });
    }
  return out;
}

/**
 * The scattering block's feature vector for one image. Names start with `scattering.`.
 *
 * - `s0` (the φ-averaged image, signed): mean, std, q0.01, q0.99, min, max, and the min and max over the 4×2
 *   grid cells of the cell mean — dark and bright spots both count.
 * - every orientation-pooled map ({@link orientationPooledMaps}: 2J first-order, J(J−1)/2·(L/2+1) second-order
 *   maps): log1p of mean, std, q0.9, q0.99, max and grid max (max over the 4×2 cells of the cell mean). The
 *   quantiles, max and grid max keep a small local defect that the spatial mean dilutes; log1p compresses the
 *   heavy tail of the coefficients (the input has unit noise, so they run from ≈ 0.1 to hundreds).
 *
 * 8 + 6·(2J + J(J−1)/2·(L/2+1)) values: 236 for J = 4, L = 8.
 */
export function poolScattering(
  maps: ScatteringMaps,
  config: ScatteringConfig = SCATTERING_DEFAULTS,
): { values: Float32Array; names: string[] } {
  const { h, w } = maps;
  const n = h * w;
  if (
    maps.s0.length !== n ||
    maps.s1.length !== config.J * config.L * n ||
    maps.s2.length !== secondOrderCount(config) * n
  )
    throw new Error(`scattering maps do not match J=${config.J}, L=${config.L} at ${h}×${w}`);
  const values: number[] = [];
  const names: string[] = [];
  const put = (name: string, v: number) => {
    names.push(`scattering.${name}`);
    values.push(Number.isFinite(v) ? v : 0);
  };

  const scratch = new Float32Array(n);
  const s0Moments = moments(maps.s0);
  const s0Extremes = extremes(maps.s0);
  const s0Cells = cellMeans(maps.s0, h, w);
  scratch.set(maps.s0);
  put('s0.mean', s0Moments.mean);
  put('s0.std', s0Moments.std);
  put('s0.q0.01', quantileSelect(scratch, 0.01));
  put('s0.q0.99', quantileSelect(scratch, 0.99));
  put('s0.min', s0Extremes.min);
  put('s0.max', s0Extremes.max);
  put('s0.gridmin', Math.min(...s0Cells));
  put('s0.gridmax', Math.max(...s0Cells));

  for (const { name, data } of orientationPooledMaps(maps, config)) {
    const { mean, std } = moments(data);
    scratch.set(data);
    put(`${name}.mean`, Math.log1p(mean));
    put(`${name}.std`, Math.log1p(std));
    put(`${name}.q0.9`, Math.log1p(quantileSelect(scratch, 0.9)));
    put(`${name}.q0.99`, Math.log1p(quantileSelect(scratch, 0.99)));
    put(`${name}.max`, Math.log1p(extremes(data).max));
    put(`${name}.gridmax`, Math.log1p(Math.max(...cellMeans(data, h, w))));
  }
  return { values: Float32Array.from(values), names };
}

/** Number of values {@link poolScattering} returns. */
export const scatteringFeatureCount = (config: ScatteringConfig = SCATTERING_DEFAULTS): number =>
  8 + 6 * (2 * config.J + ((config.J * (config.J - 1)) / 2) * (config.L / 2 + 1));

/**
 * Local energy per output pixel (h × w, row-major) for heatmaps: the sum of all first-order coefficients, i.e.
 * the local average of Σ_{j,θ} |x ⋆ ψ_{j,θ}| — where the image has structure at any scale and orientation.
 */
export function scatteringEnergyMap(
  maps: Pick<ScatteringMaps, 's1' | 'h' | 'w'>,
  config: ScatteringConfig = SCATTERING_DEFAULTS,
): Float32Array {
  const n = maps.h * maps.w;
  const channels = config.J * config.L;
  if (maps.s1.length !== channels * n)
    throw new Error(`s1 has ${maps.s1.length} values, expected ${channels * n}`);
  const e = new Float32Array(n);
  for (let c = 0; c < channels; c++) {
    const m = maps.s1.subarray(c * n, (c + 1) * n);
    for (let i = 0; i < n; i++) e[i] += m[i];
  }
  return e;
}
