/** Images, bundles and the dataset's statistics (`/api/images`, `/api/bundles`, `/api/dataset`). */
import type { ImageStatus, Method } from '../domain.ts';
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
  /**
   * Set while the image is excluded (issue 15): out of the queue, the statistics, the dataset bounds and
   * training; its votes stay. Null for included images.
   */
  excluded: { at: string; by: string; reason: string } | null;
}

/** One action of an image's exclusion history (`GET /api/images/:id/exclusions`, the audit trail). */
export interface ExclusionEventDto {
  id: string;
  action: 'exclude' | 'restore';
  /** Required to exclude; null when a restoration gave none. */
  reason: string | null;
  by: string;
  at: string;
}

/**
 * `POST /api/images`: the stored image and what the upload did. `duplicate`: these bytes (by SHA-256) were
 * already stored, as the image returned (whatever bundle or name this request gave).
 */
export interface UploadedImageDto extends ImageDto {
  upload: {
    duplicate: boolean;
    /**
     * Set when the image's 0.01–99.99 % range lies far outside the method-2 bounds in force before it came
     * (lib/dataset/bounds.ts `FAR_OUTSIDE`): flagged, never absorbed silently.
     */
    outsideBounds: {
      /** The bounds in force before this upload, and whether they were pinned. */
      before: { lo: number; hi: number; pinned: boolean };
      /** The bounds in force after it (equal to `before` when pinned). */
      after: { lo: number; hi: number };
      message: string;
    } | null;
  };
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
  /** Included images (excluded ones are counted apart, below). */
  images: number;
  /** Excluded images of the bundle. */
  excluded: number;
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
  byBitDepth: DatasetBoundsDto[];
  /** Excluded images: in none of these figures. */
  excludedImages: number;
  /** Whether the bounds in force (globalMin/globalMax) are pinned by a lead rather than computed. */
  pinned: boolean;
  /** What the included images give (paper 2.3), pinned or not; null without included images. */
  computedMin: number | null;
  computedMax: number | null;
  /**
   * The active model and the method-2 bounds it was trained under; `boundsMoved` is true when its method
   * (2 or 4) reads the bounds and those in force now differ: its predictions were made on other inputs until
   * it is retrained. Null before the first model.
   */
  activeModel: {
    version: string;
    method: Method;
    /** Null for versions trained before the bounds were recorded. */
    trainedMin: number | null;
    trainedMax: number | null;
    boundsMoved: boolean;
  } | null;
}

/** Method 2's bounds of one bit depth (`GET /api/dataset/stats`, `PUT /api/dataset/bounds`). */
export interface DatasetBoundsDto {
  bitDepth: BitDepth;
  /** Included images of this bit depth. */
  images: number;
  /** The bounds in force. */
  globalMin: number;
  globalMax: number;
  pinned: boolean;
  /** What the included images give; null when there are none. */
  computedMin: number | null;
  computedMax: number | null;
}
