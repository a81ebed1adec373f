/** Images, bundles and the dataset's statistics (`/api/images`, `/api/bundles`, `/api/dataset`). */
import type { ImageStatus } from '../db/schema.ts';
import type { BitDepth } from '../imaging/gray-image.ts';

export type { ImageStatus };

/** The contract's image object. */
export interface ImageDto {
  id: string;
  bundle: string;
  name: string;
  width: number;
  height: number;
  bitDepth: BitDepth;
  sha256: string;
  byteSize: number;
  createdAt: string;
  status: ImageStatus;
  stats: { min: number; max: number; p0_01: number; p99_99: number };
  /** The active model's prediction; null before a model, or for experts while model hints are off. */
  prediction: { modelVersion: string; pAbnormal: number } | null;
}

/**
 * `GET /api/images/:id/heatmap`: where in the image the evidence is strongest, on a coarse grid over the whole
 * image (cell (x, y) covers image pixels [x·W/width, (x+1)·W/width) × [y·H/height, (y+1)·H/height)). Values are
 * noise units — |z| of the local residual, the largest per cell: ~0–3 is ordinary noise, above 5 is strong.
 */
export interface HeatmapDto {
  /** The evidence definition that computed it (lib/evidence.ts). */
  version: string;
  width: number;
  height: number;
  /** Row-major, `width × height` values, rounded to 2 decimals. */
  values: number[];
  /** The largest value (rounded likewise). */
  max: number;
}

/** A page of a cursor-paginated list. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface BundleDto {
  name: string;
  images: number;
  /** Images with at least one vote or a lead resolution. */
  labeled: number;
  /** Images whose consensus is decided (`resolved`). */
  resolved: number;
  /**
   * Resolved images by consensus verdict; null for experts. Voting is blind: an expert watching these
   * counts change beside `GET /api/images?status=resolved` would learn an image's consensus before voting
   * on it, so experts get the progress counts above only (docs/security.md).
   */
  normal: number | null;
  abnormal: number | null;
}

/** `GET /api/dataset/stats`. */
export interface DatasetStatsDto {
  /** Method 2's bounds (paper 2.3): min of the 0.01th / max of the 99.99th percentiles, rounded to hundreds for 16-bit. */
  globalMin: number | null;
  globalMax: number | null;
  /** The bit depth these figures describe: the one most images have (16 on a tie). */
  bitDepth: BitDepth | null;
  images: number;
  /** Summed display histograms: `counts[k]` pixels in `[binEdges[k], binEdges[k+1])`. */
  histogram: { binEdges: number[]; counts: number[] };
  /** The same bounds for every bit depth present (a data set may mix 8- and 16-bit images). */
  byBitDepth: { bitDepth: BitDepth; images: number; globalMin: number; globalMax: number }[];
}
