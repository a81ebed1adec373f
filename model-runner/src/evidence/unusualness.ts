/**
 * Unusualness from zero labels (issue 13, item 3): a density model of NORMAL images over the evidence vectors, and
 * for every image how far it lies from it.
 *
 * 1. Robust standardisation per feature: z = (x − c_b) / s. The centre c_b is the feature's median in the image's
 *    bundle, shrunk towards the median over all images by n_b / (n_b + BUNDLE_PRIOR) (a bundle of a few images
 *    has no reliable median of its own). Centring per bundle is label-free (the bundle is known at upload) and
 *    answers the main enemy named in the issue, bundle shift: a bundle coated thicker is not "unusual" as a whole;
 *    an image unusual WITHIN its bundle is. s = 1.4826 × the median absolute deviation of x − c_b over all images
 *    (the normal distribution's σ), falling back to 1.2533 × the mean absolute deviation where more than half the
 *    values are equal (counts that are mostly 0), and to 1 for a constant feature.
 * 2. Trimming: the fit drops the TRIM share of images farthest from the centre by Σ z² before estimating the
 *    covariance — with zero labels the fit set holds the abnormal images too, and they are what should stand out.
 * 3. A robust Mahalanobis distance with a covariance shrunk towards its diagonal (Ledoit & Wolf, "A well-conditioned
 *    estimator for large-dimensional covariance matrices", J. Multivariate Anal. 2004, with the diagonal as the
 *    target): Σ = (1 − δ)·S + δ·diag(S), δ = Σ_{i≠j} Var̂(s_ij) / Σ_{i≠j} s_ij², clipped to [0, 1]. With a few
 *    hundred features and tens of images S is singular; shrinkage keeps it invertible and lets strongly
 *    correlated features (the same statistic at two scales) count about once.
 *    score = sqrt(zᵀ Σ⁻¹ z / dim): about 1 for a typical normal image.
 * 4. Fit set: all images before labels; the consensus-normal images once there are at least MIN_NORMALS of them.
 *
 * Nothing here knows an anomaly type or a label beyond "consensus normal": the model is the same for any plant.
 */

export const MIN_NORMALS = 30;
export const TRIM = 0.1;
export const BUNDLE_PRIOR = 10;
/** z clipped when fitting (winsorised: one wild value does not own a covariance entry) and when scoring. */
const FIT_CLIP = 5;
const SCORE_CLIP = 20;
/** Rows used to estimate the covariance (every k-th fit image beyond it): O(n·d²) work. */
const MAX_FIT_ROWS = 3000;
/** Floor of the covariance diagonal: a feature constant over the fit set must not turn any change into ∞. */
const DIAG_FLOOR = 0.1;

export interface UnusualnessInput {
  /** [images × dim] row-major. */
  vectors: Float32Array;
  dim: number;
  bundles: readonly string[];
  /** Images the normal model is fit on (all images before labels; consensus-normal ones afterwards). */
  fit: ArrayLike<boolean>;
}

export interface UnusualnessResult {
  /** Per image, sqrt(zᵀΣ⁻¹z / dim). */
  scores: Float64Array;
  /** Per image, the feature with the largest |z| and that |z| (the reason's "strongest evidence"). */
  strongest: Int32Array;
  strongestZ: Float64Array;
  /** Per image, the share of its bundle's images with a score ≤ its own, in (0, 1]. */
  bundlePercentile: Float64Array;
  /** Per image, its rank in its bundle from the top (1 = most unusual) and the bundle's size. */
  bundleRank: Int32Array;
  bundleSize: Int32Array;
  shrinkage: number;
  fitImages: number;
}

function median(a: Float64Array): number {
  if (a.length === 0) return 0;
  const s = Float64Array.from(a).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function robustScale(dev: Float64Array): number {
  const abs = dev.map(Math.abs);
  const mad = 1.4826 * median(abs);
  if (mad > 1e-12) return mad;
  const mean = abs.reduce((a, v) => a + v, 0) / Math.max(1, abs.length);
  return mean > 1e-12 ? 1.2533 * mean : 1;
}

const clip = (v: number, c: number) => (v > c ? c : v < -c ? -c : v);

/** Fits the normal model on the `fit` images and scores every image. */
export function unusualness(input: UnusualnessInput): UnusualnessResult {
  const { vectors, dim, bundles } = input;
  const n = bundles.length;
  if (vectors.length !== n * dim) throw new Error(`${vectors.length} values for ${n} images of ${dim}`);
  const fitIdx: number[] = [];
  for (let i = 0; i < n; i++) if (input.fit[i]) fitIdx.push(i);
  if (fitIdx.length === 0) for (let i = 0; i < n; i++) fitIdx.push(i);

  // 1. Centres (global median, shrunk per bundle) and scales, from the fit images.
  const byBundle = new Map<string, number[]>();
  for (const i of fitIdx) byBundle.set(bundles[i], [...(byBundle.get(bundles[i]) ?? []), i]);
  const col = (f: number, rows: readonly number[]) => Float64Array.from(rows, (i) => vectors[i * dim + f]);
  const global = new Float64Array(dim);
  const centres = new Map<string, Float64Array>();
  for (const b of new Set(bundles)) centres.set(b, new Float64Array(dim));
  const scale = new Float64Array(dim);
  for (let f = 0; f < dim; f++) {
    global[f] = median(col(f, fitIdx));
    for (const [b, c] of centres) {
      const rows = byBundle.get(b) ?? [];
      const w = rows.length / (rows.length + BUNDLE_PRIOR);
      c[f] = global[f] + (rows.length ? w * (median(col(f, rows)) - global[f]) : 0);
    }
    scale[f] = robustScale(
      Float64Array.from(fitIdx, (i) => vectors[i * dim + f] - centres.get(bundles[i])![f]),
    );
  }
  const z = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centres.get(bundles[i])!;
    for (let f = 0; f < dim; f++) z[i * dim + f] = (vectors[i * dim + f] - c[f]) / scale[f];
  }

  // 2. Trim the fit images farthest from the centre, then thin to at most MAX_FIT_ROWS.
  const sq = (i: number) => {
    let s = 0;
    for (let f = 0; f < dim; f++) s += clip(z[i * dim + f], FIT_CLIP) ** 2;
    return s;
  };
  const keep = fitIdx
    .map((i) => [i, sq(i)] as const)
    .sort((a, b) => a[1] - b[1] || a[0] - b[0])
    .slice(0, Math.max(1, Math.ceil(fitIdx.length * (1 - TRIM))))
    .map(([i]) => i)
    .sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(keep.length / MAX_FIT_ROWS));
  const rows = keep.filter((_, k) => k % step === 0);
  const m = rows.length;

  // 3. Covariance about the robust centre (z = 0), Ledoit–Wolf shrinkage towards its diagonal.
  const Z = new Float64Array(m * dim);
  rows.forEach((i, r) => {
    for (let f = 0; f < dim; f++) Z[r * dim + f] = clip(z[i * dim + f], FIT_CLIP);
  });
  const S = new Float64Array(dim * dim);
  for (let r = 0; r < m; r++) {
    const o = r * dim;
    for (let a = 0; a < dim; a++) {
      const za = Z[o + a];
      if (za === 0) continue;
      for (let b = 0; b <= a; b++) S[a * dim + b] += za * Z[o + b];
    }
  }
  for (let a = 0; a < dim; a++)
    for (let b = 0; b <= a; b++) {
      S[a * dim + b] /= m;
      S[b * dim + a] = S[a * dim + b];
    }
  let num = 0;
  let den = 0;
  if (m >= 2) {
    const pi = new Float64Array(dim * dim);
    for (let r = 0; r < m; r++) {
      const o = r * dim;
      for (let a = 1; a < dim; a++)
        for (let b = 0; b < a; b++) pi[a * dim + b] += (Z[o + a] * Z[o + b] - S[a * dim + b]) ** 2;
    }
    for (let a = 1; a < dim; a++)
      for (let b = 0; b < a; b++) {
        num += pi[a * dim + b] / (m * m);
        den += S[a * dim + b] ** 2;
      }
  }
  const delta = m < 2 || den === 0 ? 1 : Math.min(1, Math.max(0, num / den));
  const C = new Float64Array(dim * dim);
  for (let a = 0; a < dim; a++)
    for (let b = 0; b < dim; b++)
      C[a * dim + b] = a === b ? Math.max(DIAG_FLOOR, S[a * dim + a]) : (1 - delta) * S[a * dim + b];
  const L = cholesky(C, dim);

  // 4. Scores, strongest features, ranks within bundles.
  const scores = new Float64Array(n);
  const strongest = new Int32Array(n);
  const strongestZ = new Float64Array(n);
  const y = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestZ = -1;
    for (let f = 0; f < dim; f++) {
      const v = clip(z[i * dim + f], SCORE_CLIP);
      if (Math.abs(v) > bestZ) [best, bestZ] = [f, Math.abs(v)];
      let s = v;
      for (let k = 0; k < f; k++) s -= L[f * dim + k] * y[k];
      y[f] = s / L[f * dim + f];
    }
    let d2 = 0;
    for (let f = 0; f < dim; f++) d2 += y[f] * y[f];
    scores[i] = Math.sqrt(d2 / Math.max(1, dim));
    strongest[i] = best;
    strongestZ[i] = bestZ;
  }
  const bundlePercentile = new Float64Array(n);
  const bundleRank = new Int32Array(n);
  const bundleSize = new Int32Array(n);
  const all = new Map<string, number[]>();
  bundles.forEach((b, i) => all.set(b, [...(all.get(b) ?? []), i]));
  for (const members of all.values()) {
    const sorted = [...members].sort((a, b) => scores[b] - scores[a] || a - b);
    sorted.forEach((i, r) => {
      bundleRank[i] = r + 1;
      bundleSize[i] = members.length;
      bundlePercentile[i] = (members.length - r) / members.length;
    });
  }
  return {
    scores,
    strongest,
    strongestZ,
    bundlePercentile,
    bundleRank,
    bundleSize,
    shrinkage: delta,
    fitImages: m,
  };
}

/** Lower Cholesky factor of a symmetric positive-definite matrix (a tiny ridge where rounding breaks it). */
function cholesky(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) L[i * n + i] = Math.sqrt(Math.max(s, 1e-9));
      else L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}

/** The evidence a feature belongs to, in words a lead reads ("residual energy", "row or column streaks"). */
export function evidenceInWords(name: string): string {
  const n = name.replace(/@bundle$/, '');
  if (n.startsWith('scattering.')) return 'texture (wavelet scattering)';
  if (n.startsWith('residual.region.')) return 'spots (connected regions of strong residual)';
  if (n.startsWith('residual.profile.')) return 'row or column streaks';
  if (n.startsWith('residual.edge.')) return 'edge band';
  if (n.startsWith('residual.level.')) return 'coating level';
  if (n.startsWith('residual.background.')) return 'background gradient';
  if (n.startsWith('residual.noise.')) return 'noise level';
  if (n.startsWith('residual.grid.')) return 'local residual energy';
  if (n.startsWith('residual.')) return 'residual energy';
  return n;
}

/**
 * The reason a lead reads: "looks unusual: top 3 % in bundle-04, strongest in residual energy (7.2 × the normal
 * spread)"; below the bundle's top half "looks ordinary for bundle-04".
 */
export function unusualnessReason(
  bundle: string,
  rank: number,
  size: number,
  strongestName: string,
  strongestZ: number,
): string {
  const top = Math.max(1, Math.ceil((100 * rank) / size));
  const where = `${evidenceInWords(strongestName)} (${strongestZ.toFixed(1)} × the normal spread)`;
  return top <= 50
    ? `looks unusual: top ${top} % in ${bundle}, strongest in ${where}`
    : `looks ordinary for ${bundle}; strongest deviation in ${where}`;
}
