/**
 * The working image of the evidence extractor (issue 13): the decoded 8- or 16-bit image, area-averaged by an
 * integer factor so its short side lands near {@link WORKING_SHORT_SIDE} px, kept as float raw units (no 8-bit
 * conversion: the coating occupies ~10 of the 256 levels the paper's conversions keep, the 16-bit radiometry is
 * where small contrasts live).
 */
import type { BitDepth, GrayImage } from '../../../lib/imaging/gray-image.ts';
import { laplacianNoise, medianAndSigma, SCALE_SAMPLES } from './robust.ts';

/** Target short side of the working image, px. A 1150×2070 electrode becomes 287×517 (factor 4). */
export const WORKING_SHORT_SIDE = 288;
/** Smallest side of a working image; smaller images are enlarged by pixel replication. */
export const MIN_WORKING_SIDE = 32;

export interface WorkingImage {
  width: number;
  height: number;
  /**
   * Raw pixels per working pixel along each axis: an integer ≥ 1 when shrunk, 1/k when a small image was
   * enlarged k times by pixel replication. A region of `a` working pixels covers `a·factor²` raw pixels.
   */
  factor: number;
  /** Mean raw value (0..255 or 0..65535) of each working pixel, row-major. */
  data: Float32Array;
  /** Bit depth of the source, for normalising levels by its largest value. */
  bitDepth: BitDepth;
}

/**
 * Area-average downsampling by the integer factor `max(1, round(minSide / 288))`, so every working pixel is the
 * plain mean of factor×factor raw pixels and white noise of σ becomes exactly σ/factor (`residual.ts` relies on a
 * known, uniform noise transfer; a fractional resize would mix 1, 2 or 4 raw pixels per output pixel and make
 * the noise vary in a stripe pattern). The last `width mod factor` columns and `height mod factor` rows (at most
 * factor − 1 raw pixels, 3 at full size) are dropped rather than averaged over a partial block, for the same
 * reason.
 *
 * Images with a side under 32 px are enlarged by pixel replication by the smallest integer k that brings both
 * sides to ≥ 32 (a 40×30 image becomes 80×60): values stay exact and the noise estimators sample the original
 * pixels (`factor = 1/k`). Replication rather than bilinear because bilinear would invent smooth structure and
 * lower the measured noise.
 */
export function workingImage(image: GrayImage): WorkingImage {
  const { width, height } = image;
  if (width < 1 || height < 1) throw new RangeError(`empty image ${width}×${height}`);
  const minSide = Math.min(width, height);
  if (minSide < MIN_WORKING_SIDE) return enlarge(image, Math.ceil(MIN_WORKING_SIDE / minSide));

  const f = Math.max(1, Math.round(minSide / WORKING_SHORT_SIDE));
  const src = image.data;
  if (f === 1) return { width, height, factor: 1, data: Float32Array.from(src), bitDepth: image.bitDepth };

  const w = Math.floor(width / f);
  const h = Math.floor(height / f);
  const out = new Float32Array(w * h);
  // Sums of at most f² ≤ 65535-valued samples stay exact in float32 while f² · 65535 < 2²⁴, i.e. f ≤ 16; beyond
  // that the rounding error is ~1e-7 relative, far below the noise.
  const inv = 1 / (f * f);
  for (let oy = 0; oy < h; oy++) {
    const acc = out.subarray(oy * w, (oy + 1) * w);
    for (let dy = 0; dy < f; dy++) {
      let i = (oy * f + dy) * width;
      for (let ox = 0; ox < w; ox++) {
        let s = 0;
        for (let dx = 0; dx < f; dx++) s += src[i++];
        acc[ox] += s;
      }
    }
    for (let ox = 0; ox < w; ox++) acc[ox] *= inv;
  }
  return { width: w, height: h, factor: f, data: out, bitDepth: image.bitDepth };
}

function enlarge(image: GrayImage, k: number): WorkingImage {
  const w = image.width * k;
  const h = image.height * k;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const srcRow = Math.floor(y / k) * image.width;
    for (let x = 0; x < w; x++) out[y * w + x] = image.data[srcRow + Math.floor(x / k)];
  }
  return { width: w, height: h, factor: 1 / k, data: out, bitDepth: image.bitDepth };
}

/**
 * Stride at which neighbouring working pixels are independent samples: k for an image enlarged k times, else 1.
 */
export function noiseStride(w: WorkingImage): number {
  return w.factor < 1 ? Math.round(1 / w.factor) : 1;
}

/**
 * Lattice step of the working values: means of factor² integers are multiples of 1/factor²; replicated pixels
 * are integers. The robust estimators need it to average quantisation out (`robust.ts`).
 */
export function quantum(w: WorkingImage): number {
  return w.factor >= 1 ? 1 / (w.factor * w.factor) : 1;
}

/**
 * Smallest noise we claim to measure, in working units: the quantisation noise of integer raw values,
 * 1/√12 per raw pixel, averaged over factor² raw pixels. It keeps a noiseless or coarsely quantised image from
 * dividing by zero without inflating anything measurable.
 */
export function noiseFloor(w: WorkingImage): number {
  return 1 / (Math.sqrt(12) * Math.max(1, w.factor));
}

/**
 * The working image centred on its median and scaled by its pixel noise: `(x − level) / noise`, with `level` the
 * robust location (median refined by a ±3σ clipped mean, `robust.ts`) and `noise` Immerkær's robust Laplacian estimate (`robust.ts`), floored at the quantisation noise. This
 * is the scattering block's input: unit noise makes its coefficients comparable across bit depths, gains and
 * exposure, while the absolute level is reported separately (`residual.level.median` in `residual.ts`). `level` and
 * `noise` are in working units (raw values, 0..255 or 0..65535; noise per working pixel).
 */
export function robustNormalise(w: WorkingImage): { data: Float32Array; level: number; noise: number } {
  const level = medianAndSigma(w.data, SCALE_SAMPLES, quantum(w)).median;
  const noise = Math.max(
    laplacianNoise(w.data, w.width, w.height, noiseStride(w), undefined, quantum(w)),
    noiseFloor(w),
  );
  const data = new Float32Array(w.data.length);
  const inv = 1 / noise;
  for (let i = 0; i < data.length; i++) data[i] = (w.data[i] - level) * inv;
  return { data, level, noise };
}
