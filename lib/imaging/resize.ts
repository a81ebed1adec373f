/**
 * Resizing, and the fused "convert + resize" path that previews and the model input use.
 *
 * Filter, per axis: area averaging when shrinking (each output pixel is the mean of the source area it
 * covers, fractional pixels weighted by their overlap: no aliasing, no pixel dropped) and bilinear
 * interpolation when enlarging (pixel centres aligned: source x = (j + 0.5) · src/dst − 0.5, clamped at the
 * edges). The paper's images (1119–1219 × 2053–2115, section 2.2) are always shrunk to its 1000 × 2000.
 * The two axes are resampled separately (horizontal pass into a float buffer, then vertical pass).
 *
 * Order: convert first, then resize — the paper converts each image to 8 bits and its network pipeline
 * resizes the 8-bit image. The fused path applies the conversion's lookup table while reading each source
 * row, so the source is read once per output channel and no full-size 8-bit image is materialised.
 * Results are rounded to the nearest integer (halves up) and, for the model, normalised from those 8-bit
 * values, exactly as an 8-bit image file would be.
 */
import type { Conversion, Planes8 } from './conversions.ts';
import { conversionLuts } from './conversions.ts';
import type { GrayImage } from './gray-image.ts';
import { maxValue } from './gray-image.ts';

export interface Size {
  width: number;
  height: number;
}

/** The network's input size in the paper (section 2.2): 2000 high × 1000 wide. */
export const PAPER_INPUT_SIZE: Readonly<Size> = Object.freeze({ width: 1000, height: 2000 });

/** ImageNet statistics used to normalise the pretrained ResNet's input (docs/domain.md, "Network input"). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * Resampling weights along one axis: output j reads `count[j]` consecutive source pixels from `first[j]`,
 * weighted by `weights[j * taps + k]` (rows of `taps` entries, only the first `count[j]` used).
 */
interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Float32Array;
}

function axisWeights(src: number, dst: number): AxisWeights {
  if (!(Number.isInteger(src) && Number.isInteger(dst) && src > 0 && dst > 0)) {
    throw new RangeError(`cannot resample ${src} pixels to ${dst}`);
  }
  const first = new Int32Array(dst);
  const count = new Int32Array(dst);
  if (dst === src) {
    for (let j = 0; j < dst; j++) first[j] = j;
    return { first, count: count.fill(1), taps: 1, weights: new Float32Array(dst).fill(1) };
  }
  if (dst > src) {
    // Bilinear, centre-aligned.
    const weights = new Float32Array(dst * 2);
    const scale = src / dst;
    for (let j = 0; j < dst; j++) {
      const x = Math.min(Math.max((j + 0.5) * scale - 0.5, 0), src - 1);
      const i0 = Math.min(Math.floor(x), src - 2 < 0 ? 0 : src - 2);
      const f = x - i0;
      first[j] = i0;
      weights[2 * j] = 1 - f;
      weights[2 * j + 1] = src === 1 ? 0 : f;
    }
    if (src === 1) return { first, count: count.fill(1), taps: 1, weights: new Float32Array(dst).fill(1) };
    return { first, count: count.fill(2), taps: 2, weights };
  }
  // Area averaging: output j covers source interval [j·s, (j+1)·s).
  const s = src / dst;
  const taps = Math.ceil(s) + 1;
  const weights = new Float32Array(dst * taps);
  for (let j = 0; j < dst; j++) {
    const a = j * s;
    const b = Math.min((j + 1) * s, src);
    const i0 = Math.floor(a);
    first[j] = i0;
    for (let k = 0; k < taps && i0 + k < src; k++) {
      const i = i0 + k;
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 0) {
        weights[j * taps + k] = overlap / s;
        count[j] = k + 1;
      }
    }
  }
  return { first, count, taps, weights };
}

type Pixels = Uint8Array | Uint16Array;

/**
 * Resamples one channel: reads `src` (through `lut` when given), writes rounded values into `out`,
 * clamped to [0, outMax].
 */
function resampleChannel(
  src: Pixels,
  srcW: number,
  srcH: number,
  lut: Uint8Array | null,
  dst: Size,
  out: Uint8Array | Uint16Array,
  outMax: number,
): void {
  const wx = axisWeights(srcW, dst.width);
  const wy = axisWeights(srcH, dst.height);
  const dstW = dst.width;
  const tmp = new Float32Array(srcH * dstW);
  const row = new Float32Array(srcW);
  const { first: fx, count: nx, taps: tx, weights: wxs } = wx;
  for (let y = 0; y < srcH; y++) {
    const base = y * srcW;
    if (lut) for (let x = 0; x < srcW; x++) row[x] = lut[src[base + x]];
    else for (let x = 0; x < srcW; x++) row[x] = src[base + x];
    const o = y * dstW;
    for (let j = 0; j < dstW; j++) {
      const i0 = fx[j];
      const wb = j * tx;
      const n = nx[j];
      let acc = 0;
      for (let k = 0; k < n; k++) acc += wxs[wb + k] * row[i0 + k];
      tmp[o + j] = acc;
    }
  }
  const acc = new Float32Array(dstW);
  const { first: fy, count: ny, taps: ty, weights: wys } = wy;
  for (let j = 0; j < dst.height; j++) {
    acc.fill(0);
    for (let k = 0; k < ny[j]; k++) {
      const w = wys[j * ty + k];
      const r = (fy[j] + k) * dstW;
      for (let x = 0; x < dstW; x++) acc[x] += w * tmp[r + x];
    }
    const o = j * dstW;
    for (let x = 0; x < dstW; x++) {
      const v = Math.floor(acc[x] + 0.5);
      out[o + x] = v < 0 ? 0 : v > outMax ? outMax : v;
    }
  }
}

/** Resizes a grayscale image, keeping its bit depth. */
export function resizeGray(image: GrayImage, size: Size): GrayImage {
  if (image.bitDepth === 16) {
    const data = new Uint16Array(size.width * size.height);
    resampleChannel(image.data, image.width, image.height, null, size, data, maxValue(16));
    return { ...size, bitDepth: 16, data };
  }
  const data = new Uint8Array(size.width * size.height);
  resampleChannel(image.data, image.width, image.height, null, size, data, maxValue(8));
  return { ...size, bitDepth: 8, data };
}

/** Resizes 8-bit planes (e.g. a converted image). */
export function resizePlanes(planes: Planes8, size: Size): Planes8 {
  return {
    ...size,
    planes: planes.planes.map((p) => {
      const out = new Uint8Array(size.width * size.height);
      resampleChannel(p, planes.width, planes.height, null, size, out, 255);
      return out;
    }),
  };
}

/** Fused conversion (paper's method 1–4) and resize: equal to `resizePlanes(convert(image, c), size)`, faster. */
export function convertAndResize(image: GrayImage, conversion: Conversion, size: Size): Planes8 {
  const planes = conversionLuts(conversion, image.bitDepth).map((lut) => {
    const out = new Uint8Array(size.width * size.height);
    resampleChannel(image.data, image.width, image.height, lut, size, out, 255);
    return out;
  });
  return { ...size, planes };
}

/** The network's input: 3 × height × width floats, channel-major (CHW). */
export interface ModelInput {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * The classifier's input tensor for an image: convert (method 1–4), resize to the paper's 1000 × 2000,
 * scale the 8-bit values to [0, 1] and normalise each channel with ImageNet's mean and std. Single-channel
 * methods (1–3) are replicated into all three channels, as the paper does for its pretrained ResNet.
 */
export function toModelInput(
  image: GrayImage,
  conversion: Conversion,
  size: Size = PAPER_INPUT_SIZE,
): ModelInput {
  const { planes } = convertAndResize(image, conversion, size);
  const n = size.width * size.height;
  const data = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const plane = planes.length === 3 ? planes[c] : planes[0];
    const norm = new Float32Array(256);
    for (let v = 0; v < 256; v++) norm[v] = (v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
    const out = data.subarray(c * n, (c + 1) * n);
    for (let i = 0; i < n; i++) out[i] = norm[plane[i]];
  }
  return { ...size, data };
}

/** Size of a preview `width` pixels wide with the image's aspect ratio (height at least 1). */
export function previewSize(image: Size, width: number): Size {
  return { width, height: Math.max(1, Math.round((image.height * width) / image.width)) };
}
