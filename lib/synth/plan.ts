/**
 * The plan of a synthetic data set: which bundles exist, how each bundle's coating looks, and for every image its
 * size, true verdict and anomalies with severities. Planning is cheap (no pixels) and fully determined by
 * (seed, scale, bundles), so tests can check the data set's statistics at full scale without rendering it, and
 * renderers on any thread can draw any image independently.
 *
 * Targets come from the paper's section 2.2 (see docs/domain.md, "Images and bundles"): 714 images in 12 bundles, 562 normal /
 * 152 abnormal, widths 1119–1219 (mean 1145), heights 2053–2115 (mean 2072.1), 11 anomaly types.
 */
import { ANOMALY_CODES, type AnomalyCode } from '../anomaly-types.ts';
import { Rng, streamSeed } from './random.ts';

/** The paper's 11 anomaly types in its order (section 2.2.2), with the API's codes: one list for all of Platina. */
export const ANOMALY_TYPES = ANOMALY_CODES;
export type AnomalyType = AnomalyCode;

/**
 * Severity is in [0, 1]. An anomaly with severity ≥ SEVERE makes the electrode abnormal; below it the electrode is
 * normal with a minor finding (the paper's figure 2d). Rendering is continuous in severity, so 0.45 and 0.55 look
 * alike: that is where simulated (and real) experts disagree.
 */
export const SEVERE = 0.5;

export type Scale = 'full' | 'small';
/** Linear size factor of each scale: small images are 1/8 of the paper's size in each dimension. */
export const SCALE_FACTOR: Record<Scale, number> = { full: 1, small: 1 / 8 };
/** Images per bundle at small scale (the issue: 12 bundles × 8 images). */
export const SMALL_IMAGES_PER_BUNDLE = 8;

export const PAPER = {
  images: 714,
  abnormal: 152,
  bundles: 12,
  width: { min: 1119, max: 1219, mean: 1145 },
  height: { min: 2053, max: 2115, mean: 2072.1 },
  /** Method-2 bounds the paper reports (section 2.3.2). */
  globalMin: 1700,
  globalMax: 28000,
} as const;

/**
 * Bundle sizes and abnormal counts at full scale with 12 bundles. The paper gives only the totals (714 / 152) and
 * says that sizes and class balance vary; its table 1 shows bundles where every method scores 50 %, which happens
 * when a test bundle has very few abnormal images. So: sizes from 16 to 110, abnormal rates from 3 % to 31 %,
 * three bundles with 1–3 abnormal images.
 */
const FULL_BUNDLES: readonly { images: number; abnormal: number }[] = [
  { images: 32, abnormal: 4 },
  { images: 24, abnormal: 4 },
  { images: 40, abnormal: 2 },
  { images: 74, abnormal: 18 },
  { images: 16, abnormal: 4 },
  { images: 96, abnormal: 28 },
  { images: 110, abnormal: 34 },
  { images: 36, abnormal: 1 },
  { images: 50, abnormal: 10 },
  { images: 48, abnormal: 3 },
  { images: 88, abnormal: 22 },
  { images: 100, abnormal: 22 },
];

/** How a bundle's coating looks. Lengths are in full-resolution pixels; renderers multiply them by the scale. */
export interface BundleProfile {
  index: number;
  name: string;
  images: number;
  abnormal: number;
  /** Value of uncoated substrate (the darkest regular pixels). */
  substrate: number;
  /** Mean value of a nominal coating. */
  coating: number;
  /** Standard deviation of per-pixel (detector) noise. */
  noise: number;
  /** Standard deviation and correlation radius of the coating's grain (texture). */
  grainAmp: number;
  grainRadius: number;
  /** Standard deviation and cell size of slow density variation across the plate. */
  lowFreqAmp: number;
  lowFreqCell: number;
  /** Typical linear gradients across the plate (value change from edge to edge). */
  gradientX: number;
  gradientY: number;
  /** Weak banding every plate of the bundle shows (relative thickness amplitude). */
  bandAmp: number;
  /** Uncoated margins as fractions of width (left/right) and height (top/bottom). */
  marginX: number;
  marginY: number;
  /** Thickening of the coating along the side edges and at the coating's start and end. */
  edgeBead: number;
  endBead: number;
  /** Roughness of the coating's borders (pixels). */
  edgeJitter: number;
  /** Relative frequency of each anomaly type in this bundle (index = ANOMALY_TYPES order). */
  typeWeights: number[];
}

export interface AnomalySpec {
  type: AnomalyType;
  /** In [0, 1], two decimals (what the manifest says is what is rendered). */
  severity: number;
}

/** Bright foreign particles: a flat-topped cluster of specks at `peak`, covering `coverage` of the image's pixels. */
export interface ArtifactSpec {
  peak: number;
  coverage: number;
}

export interface ImageSpec {
  /** Position in the data set (0-based), also the image's random stream. */
  index: number;
  /** Path relative to the output folder: `<bundle>/<bundle>-<nnn>.tif`. */
  file: string;
  bundle: string;
  bundleIndex: number;
  width: number;
  height: number;
  verdict: 'normal' | 'abnormal';
  /** Sorted by severity, most severe first. */
  anomalies: AnomalySpec[];
  artifact: ArtifactSpec | null;
  /** Highest anomaly severity (0 without anomalies). */
  maxSeverity: number;
  /**
   * How hard the image is to judge, in [0, 1]: 1 when the worst anomaly sits exactly at the severity threshold,
   * falling linearly to 0 at ±BORDERLINE_BAND from it. Simulated experts err more on difficult images.
   */
  difficulty: number;
}

export interface DatasetPlan {
  seed: number;
  scale: Scale;
  bundles: BundleProfile[];
  images: ImageSpec[];
}

export interface PlanOptions {
  seed: number;
  scale: Scale;
  bundles?: number;
  /**
   * Images per bundle, at either scale (abnormal ones at the paper's rate, as the small scale does): the demo's
   * few full-size electrodes. Unset: the paper's bundle sizes at full scale, SMALL_IMAGES_PER_BUNDLE at small.
   */
  imagesPerBundle?: number;
}

/** Severities within this distance of SEVERE count as borderline (difficulty > 0). */
export const BORDERLINE_BAND = 0.2;
/** Base frequency of each anomaly type (ANOMALY_TYPES order); bundles skew it. */
const BASE_TYPE_WEIGHTS = [1.2, 1.0, 0.8, 0.7, 1.0, 0.8, 1.1, 0.9, 1.0, 0.7, 0.8];
/** Fraction of normal images that show minor anomalies. */
const MINOR_RATE = 0.45;
/** Fraction of images with bright foreign particles (independent of the verdict). */
const ARTIFACT_RATE = 0.015;
/**
 * Flat-top coverage of the one particle cluster that sets the method-2 upper bound: 3× the 0.01 % tail, so the
 * 99.99th percentile of that image is exactly its plateau value (PAPER.globalMax) under any percentile definition.
 */
const GMAX_COVERAGE = 3e-4;

const round2 = (x: number) => Math.round(x * 100) / 100;

export function planDataset(options: PlanOptions): DatasetPlan {
  const { seed, scale } = options;
  const bundleCount = options.bundles ?? PAPER.bundles;
  if (!Number.isInteger(bundleCount) || bundleCount < 1 || bundleCount > 99) {
    throw new RangeError(`bundles must be an integer from 1 to 99, got ${options.bundles}`);
  }
  if (!(scale in SCALE_FACTOR)) throw new RangeError(`scale must be "full" or "small", got ${scale}`);
  const per = options.imagesPerBundle;
  if (per !== undefined && (!Number.isInteger(per) || per < 2 || per > 200)) {
    throw new RangeError(`imagesPerBundle must be an integer from 2 to 200, got ${per}`);
  }
  const counts = bundleCounts(scale, bundleCount, per);
  const bundles = counts.map((c, b) => bundleProfile(seed, b, c.images, c.abnormal));
  forceDarkestBundle(seed, bundles);

  // Image ids in data-set order, grouped by bundle. Which images of a bundle are abnormal is shuffled.
  const images: ImageSpec[] = [];
  const verdicts: ('normal' | 'abnormal')[] = [];
  for (const b of bundles) {
    const v = Array.from({ length: b.images }, (_, i): 'normal' | 'abnormal' =>
      i < b.abnormal ? 'abnormal' : 'normal',
    );
    verdicts.push(...Rng.at(seed, 'verdicts', b.index).shuffle(v));
  }
  const total = verdicts.length;

  // Every anomaly type must appear as a severe anomaly when there are at least 11 abnormal images: the first 11
  // abnormal images in a seeded order take the 11 types, the rest draw from their bundle's mix.
  const order = Rng.at(seed, 'primary-order').shuffle(
    verdicts.flatMap((v, i) => (v === 'abnormal' ? [i] : [])),
  );
  const forcedType = new Map<number, number>();
  Rng.at(seed, 'primary-types')
    .shuffle(ANOMALY_TYPES.map((_, t) => t))
    .forEach((t, k) => {
      if (k < order.length) forcedType.set(order[k], t);
    });
  // Likewise the first 11 normal images with minor findings cover every type (the contact sheet needs them).
  const minorOrder = Rng.at(seed, 'minor-order').shuffle(
    verdicts.flatMap((v, i) => (v === 'normal' ? [i] : [])),
  );
  const minorTypes = Rng.at(seed, 'minor-types').shuffle(ANOMALY_TYPES);

  const artifactImages = artifactPlan(seed, total);
  const sizes = imageSizes(seed, total, SCALE_FACTOR[scale]);

  let i = 0;
  for (const b of bundles) {
    for (let j = 0; j < b.images; j++, i++) {
      const rng = Rng.at(seed, 'image', i);
      const verdict = verdicts[i];
      const anomalies: AnomalySpec[] = [];
      const drawType = () => ANOMALY_TYPES[rng.weighted(b.typeWeights)];
      if (verdict === 'abnormal') {
        // One severe anomaly; severities skewed towards the threshold so ~25 % are borderline (0.50–0.60).
        const t = forcedType.has(i) ? ANOMALY_TYPES[forcedType.get(i)!] : drawType();
        anomalies.push({ type: t, severity: round2(SEVERE + 0.5 * rng.next() ** 1.25) });
        const extra = rng.chance(0.45) ? (rng.chance(0.3) ? 2 : 1) : 0;
        for (let e = 0; e < extra; e++) addDistinct(anomalies, drawType(), round2(rng.range(0.1, 0.95)));
      } else {
        const k = minorOrder.indexOf(i);
        const forced = k >= 0 && k < ANOMALY_TYPES.length;
        if (forced || rng.chance(MINOR_RATE)) {
          const n = forced ? 1 : rng.chance(0.75) ? 1 : 2;
          for (let e = 0; e < n; e++) {
            const t = forced && e === 0 ? minorTypes[k] : drawType();
            // Minor: 0.05–0.49, ~25 % of them borderline (≥ 0.40).
            addDistinct(anomalies, t, Math.min(SEVERE - 0.01, round2(0.05 + 0.44 * rng.next() ** 0.8)));
          }
        }
      }
      anomalies.sort(
        (a, c) => c.severity - a.severity || ANOMALY_TYPES.indexOf(a.type) - ANOMALY_TYPES.indexOf(c.type),
      );
      const maxSeverity = anomalies.length > 0 ? anomalies[0].severity : 0;
      images.push({
        index: i,
        file: `${b.name}/${b.name}-${String(j + 1).padStart(3, '0')}.tif`,
        bundle: b.name,
        bundleIndex: b.index,
        width: sizes[i].width,
        height: sizes[i].height,
        verdict,
        anomalies,
        artifact: artifactImages.get(i) ?? null,
        maxSeverity,
        difficulty:
          anomalies.length === 0
            ? 0
            : round2(Math.max(0, 1 - Math.abs(maxSeverity - SEVERE) / BORDERLINE_BAND)),
      });
    }
  }
  return { seed, scale, bundles, images };
}

function addDistinct(list: AnomalySpec[], type: AnomalyType, severity: number): void {
  const existing = list.find((a) => a.type === type);
  if (existing) existing.severity = Math.max(existing.severity, severity);
  else list.push({ type, severity });
}

/** Images and abnormal images per bundle; totals follow the paper at full scale. */
function bundleCounts(
  scale: Scale,
  n: number,
  imagesPerBundle?: number,
): { images: number; abnormal: number }[] {
  const rates = FULL_BUNDLES.map((b) => b.abnormal / b.images);
  if (scale === 'full' && imagesPerBundle === undefined && n === PAPER.bundles)
    return FULL_BUNDLES.map((b) => ({ ...b }));
  if (scale === 'full' && imagesPerBundle === undefined) {
    const images = allocate(
      PAPER.images,
      Array.from({ length: n }, (_, b) => FULL_BUNDLES[b % 12].images),
    );
    const abnormal = allocate(
      PAPER.abnormal,
      images.map((m, b) => m * rates[b % 12]),
    );
    return images.map((m, b) => ({ images: m, abnormal: Math.min(abnormal[b], m - 1) }));
  }
  const per = imagesPerBundle ?? SMALL_IMAGES_PER_BUNDLE;
  const totalAbnormal = Math.round((n * per * PAPER.abnormal) / PAPER.images);
  const abnormal = allocate(
    totalAbnormal,
    Array.from({ length: n }, (_, b) => rates[b % 12]),
  );
  return abnormal.map((a) => ({ images: per, abnormal: Math.min(a, per - 1) }));
}

/** Largest-remainder allocation of `total` in proportion to `weights`. */
function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((s, v) => s + v, 0);
  const byRemainder = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    out[i]++;
  }
  return out;
}

function bundleProfile(seed: number, index: number, images: number, abnormal: number): BundleProfile {
  const r = Rng.at(seed, 'bundle', index);
  const noise = r.range(24, 44);
  // Each bundle favours two anomaly types (its coating process has characteristic failures) and skews the rest.
  const favoured = r.shuffle(ANOMALY_TYPES.map((_, t) => t)).slice(0, 2);
  const typeWeights = BASE_TYPE_WEIGHTS.map(
    (w, t) => Math.round(w * Math.exp(0.5 * r.normal()) * (favoured.includes(t) ? 3 : 1) * 1000) / 1000,
  );
  return {
    index,
    name: `bundle-${String(index + 1).padStart(2, '0')}`,
    images,
    abnormal,
    // The substrate is set from the darkest 0.01 % this bundle should show (see forceDarkestBundle): about 3.2
    // noise standard deviations below the substrate level, given margins of ~8 % of the pixels.
    substrate: Math.round(1725 + r.range(10, 90) + 3.2 * noise),
    coating: Math.round(r.range(2180, 2420)),
    noise: Math.round(noise * 10) / 10,
    grainAmp: Math.round(r.range(14, 48)),
    grainRadius: Math.round(r.range(1.2, 4.5) * 10) / 10,
    lowFreqAmp: Math.round(r.range(5, 18)),
    lowFreqCell: Math.round(r.range(140, 320)),
    gradientX: Math.round(r.range(-30, 30)),
    gradientY: Math.round(r.range(-40, 40)),
    bandAmp: Math.round(r.range(0.002, 0.01) * 1000) / 1000,
    marginX: Math.round(r.range(0.025, 0.045) * 1000) / 1000,
    marginY: Math.round(r.range(0.008, 0.016) * 1000) / 1000,
    edgeBead: Math.round(r.range(0, 0.06) * 1000) / 1000,
    endBead: Math.round(r.range(0.03, 0.1) * 1000) / 1000,
    edgeJitter: Math.round(r.range(0.3, 1.4) * 10) / 10,
    typeWeights,
  };
}

/**
 * The paper's lower method-2 bound (1700) is the smallest per-image 0.01th percentile over the data set, and these
 * come from the uncoated margins. One bundle (seeded choice) is made the darkest, with its 0.01 % tail at ~1700.
 */
function forceDarkestBundle(seed: number, bundles: BundleProfile[]): void {
  const b = bundles[Rng.at(seed, 'darkest').int(0, bundles.length - 1)];
  b.substrate = Math.round(PAPER.globalMin + 8 + 3.2 * b.noise);
}

/**
 * Which images carry bright foreign particles. ~1.5 % of the images (at least one); the first one (seeded choice)
 * is the image whose 99.99th percentile defines the method-2 upper bound: plateau at exactly PAPER.globalMax
 * covering 0.03 % of its pixels. The others peak lower (6 000–24 000) so they never raise the bound.
 */
function artifactPlan(seed: number, total: number): Map<number, ArtifactSpec> {
  const r = Rng.at(seed, 'artifacts');
  const count = Math.max(1, Math.round(total * ARTIFACT_RATE));
  const chosen = r.shuffle(Array.from({ length: total }, (_, i) => i)).slice(0, count);
  const out = new Map<number, ArtifactSpec>();
  chosen.forEach((i, k) => {
    out.set(
      i,
      k === 0
        ? { peak: PAPER.globalMax, coverage: GMAX_COVERAGE }
        : { peak: Math.round(r.range(6000, 24000)), coverage: Math.round(r.range(0.5e-4, 4e-4) * 1e6) / 1e6 },
    );
  });
  return out;
}

/**
 * Widths and heights with the paper's ranges and means. Both distributions are right-skewed (the means sit near the
 * minimums): x = min + range · u^k with E[u^k] = 1/(k+1) chosen to hit the mean. The first two images of a seeded
 * order take the exact minimum and maximum so the ranges are reached. Small scale divides by 8 and rounds.
 */
function imageSizes(seed: number, total: number, factor: number): { width: number; height: number }[] {
  const r = Rng.at(seed, 'sizes');
  const { width: W, height: H } = PAPER;
  const kw = (W.max - W.min) / (W.mean - W.min) - 1;
  const kh = (H.max - H.min) / (H.mean - H.min) - 1;
  // Stratified uniforms (one per 1/total slice, in shuffled order) keep the sample means within ~0.2 px of the
  // targets even for 96 images, where plain draws wander by several pixels.
  const strata = (name: string) => {
    const perm = Rng.at(seed, 'sizes', name).shuffle(Array.from({ length: total }, (_, i) => i));
    return perm.map((p) => (p + r.next()) / total);
  };
  const uw = strata('width');
  const uh = strata('height');
  const sizes = Array.from({ length: total }, (_, i) => ({
    width: W.min + Math.round((W.max - W.min) * uw[i] ** kw),
    height: H.min + Math.round((H.max - H.min) * uh[i] ** kh),
  }));
  const extremes = r.shuffle(Array.from({ length: total }, (_, i) => i));
  if (total >= 2) {
    sizes[extremes[0]] = { width: W.min, height: H.max };
    sizes[extremes[1]] = { width: W.max, height: H.min };
  }
  return sizes.map((s) => ({ width: Math.round(s.width * factor), height: Math.round(s.height * factor) }));
}

/** Seed of the random stream of anomaly `k` of image `index` (used by the renderer). */
export function anomalySeed(seed: number, index: number, k: number): number {
  return streamSeed(seed, 'anomaly', index, k);
}
