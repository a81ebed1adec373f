/**
 * The evidence vector of one image: fixed, generic image evidence computed from the decoded image itself (the
 * 16-bit radiometry that the paper's 8-bit conversions throw away), beside the ResNet-34 embedding. Two blocks:
 *
 * - `residual.*`: local-residual statistics (residual.ts) on the working image (working-image.ts);
 * - `scattering.*`: a wavelet scattering transform, orders 1 and 2 (scattering.ts), on the robustly normalised
 *   working image, run as an ONNX graph with fixed (formula) weights.
 *
 * And a low-resolution heatmap: where in the image the local evidence is strongest (the residual's |z| per cell,
 * noise units), stored with the prediction and shown in the viewer.
 *
 * Nothing here looks at labels or at any anomaly type: the features are the same for every image and every
 * plant. The block names (`residual.`, `scattering.`) are the prefixes of the value names, so ablations select
 * blocks by name (`selectBlocks`).
 */
import type { GrayImage } from '../../../lib/imaging/gray-image.ts';
import { residualEvidence } from './residual.ts';
import { poolScattering, SCATTERING_DEFAULTS, scatteringMinSize } from './scattering.ts';
import type { ScatteringConfig } from './scattering.ts';
import { robustNormalise, workingImage } from './working-image.ts';

export { EVIDENCE_VERSION } from '../../../lib/evidence.ts'; // one home, shared with the API

export const EVIDENCE_BLOCKS = ['residual', 'scattering'] as const;
export type EvidenceBlock = (typeof EVIDENCE_BLOCKS)[number];

/** Heatmap cells across the image's long side; the short side gets as many as keep the cells square. */
export const HEATMAP_LONG_SIDE = 64;

export interface Heatmap {
  width: number;
  height: number;
  /** Row-major, noise units (|z| of the local residual, max per cell); 0 = nothing unusual. */
  data: Float32Array;
}

export interface Evidence {
  values: Float32Array;
  names: string[];
  heatmap: Heatmap;
}

/** Runs the scattering graph on a normalised working image [1, 1, h, w]; returns its maps. */
export type ScatteringRun = (
  data: Float32Array,
  height: number,
  width: number,
) => Promise<{ s0: Float32Array; s1: Float32Array; s2: Float32Array; h: number; w: number }>;

export async function extractEvidence(
  image: GrayImage,
  scattering: ScatteringRun,
  config: ScatteringConfig = SCATTERING_DEFAULTS,
): Promise<Evidence> {
  const work = workingImage(image);
  const residual = residualEvidence(work);
  const normalised = robustNormalise(work);
  // The scattering pyramid needs a minimum size (its reflect padding at the coarsest level); a smaller working
  // image (a thumbnail-sized upload) is enlarged by pixel replication for this block only, which keeps its
  // statistics (replication adds no structure at the wavelets' scales beyond the replication itself).
  const min = scatteringMinSize(config);
  const grow = Math.max(1, Math.ceil(min / Math.min(work.width, work.height)));
  const big = grow === 1 ? normalised.data : replicate(normalised.data, work.width, work.height, grow);
  const maps = await scattering(big, work.height * grow, work.width * grow);
  const pooled = poolScattering(maps, config);
  const names = [...residual.names, ...pooled.names];
  const values = new Float32Array(names.length);
  values.set(residual.values, 0);
  values.set(pooled.values, residual.values.length);
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) values[i] = 0;
  return {
    values,
    names,
    heatmap: cellMax(residual.map, residual.mapWidth, residual.mapHeight),
  };
}

/** Each pixel repeated `k`×`k` times. */
function replicate(data: Float32Array, width: number, height: number, k: number): Float32Array {
  const out = new Float32Array(width * k * height * k);
  for (let y = 0; y < height * k; y++) {
    const row = Math.floor(y / k) * width;
    for (let x = 0; x < width * k; x++) out[y * width * k + x] = data[row + Math.floor(x / k)];
  }
  return out;
}

/** Max of |map| per cell of a grid whose long side has {@link HEATMAP_LONG_SIDE} cells. */
export function cellMax(map: Float32Array, width: number, height: number): Heatmap {
  const long = Math.max(width, height);
  const cells = Math.min(HEATMAP_LONG_SIDE, long);
  const hw = Math.max(1, Math.round((width / long) * cells));
  const hh = Math.max(1, Math.round((height / long) * cells));
  const data = new Float32Array(hw * hh);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(hh - 1, Math.floor((y * hh) / height));
    for (let x = 0; x < width; x++) {
      const cx = Math.min(hw - 1, Math.floor((x * hw) / width));
      const v = Math.abs(map[y * width + x]);
      const k = cy * hw + cx;
      if (v > data[k]) data[k] = v;
    }
  }
  return { width: hw, height: hh, data };
}

/** Indices of the values whose names belong to `blocks` (for ablations). */
export function selectBlocks(names: readonly string[], blocks: readonly EvidenceBlock[]): number[] {
  return names.flatMap((n, i) => (blocks.some((b) => n.startsWith(`${b}.`)) ? [i] : []));
}
