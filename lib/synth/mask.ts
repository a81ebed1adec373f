/**
 * Masks: small dense float rasters over a bounding box, the building block of anomalies. An anomaly draws its
 * shape once into a mask when the image is set up; the renderer then applies the mask row by row while it streams
 * the image. Masks are cheap because anomalies are local; full-image effects (banding, border shape) are not masks.
 */

/** How a mask changes the coating thickness T of the pixels it covers. */
export type MaskOp = 'add' | 'mul';

export interface Mask {
  x0: number;
  y0: number;
  w: number;
  h: number;
  data: Float32Array;
  /** 'add': T += m. 'mul': T *= 1 + m. Value masks ignore op: value = max(value, m). */
  op: MaskOp;
}

/** Smallest radius drawn as such; smaller discs are drawn at this radius with the same integral (sub-pixel sizes
 * occur at small scale, where everything is 1/8 of its full size). */
const MIN_RADIUS = 0.7;

export type Profile = 'flat' | 'dome' | 'gauss';

export class MaskCanvas {
  readonly x0: number;
  readonly y0: number;
  readonly w: number;
  readonly h: number;
  readonly data: Float32Array;

  /** A canvas covering [x0, x1) × [y0, y1) (rounded outwards). */
  constructor(x0: number, y0: number, x1: number, y1: number) {
    this.x0 = Math.floor(x0);
    this.y0 = Math.floor(y0);
    this.w = Math.max(1, Math.ceil(x1) - this.x0);
    this.h = Math.max(1, Math.ceil(y1) - this.y0);
    this.data = new Float32Array(this.w * this.h);
  }

  /** A canvas around points with radii, padded by `pad`. */
  static around(points: readonly { x: number; y: number; r: number }[], pad = 2): MaskCanvas {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const p of points) {
      const r = Math.max(p.r, MIN_RADIUS) + pad;
      x0 = Math.min(x0, p.x - r);
      y0 = Math.min(y0, p.y - r);
      x1 = Math.max(x1, p.x + r);
      y1 = Math.max(y1, p.y + r);
    }
    return new MaskCanvas(x0, y0, x1, y1);
  }

  /**
   * Draws a disc centred at (cx, cy). `combine` 'max' merges overlapping shapes (strokes, lobes), 'add' sums them.
   * Profiles: flat (anti-aliased hard edge, `amp` exactly inside), dome ((1−(d/r)²)²), gauss (σ = r/2, cut at r·1.5).
   */
  disc(
    cx: number,
    cy: number,
    r: number,
    amp: number,
    profile: Profile,
    combine: 'max' | 'add' = 'max',
  ): void {
    if (r < MIN_RADIUS) {
      amp *= (r / MIN_RADIUS) ** 2;
      r = MIN_RADIUS;
    }
    const reach = profile === 'gauss' ? r * 1.5 : r + 0.5;
    const ya = Math.max(0, Math.floor(cy - reach - this.y0));
    const yb = Math.min(this.h - 1, Math.ceil(cy + reach - this.y0));
    const xa = Math.max(0, Math.floor(cx - reach - this.x0));
    const xb = Math.min(this.w - 1, Math.ceil(cx + reach - this.x0));
    const inv2s2 = 2 / (r * r); // gauss: 1 / (2σ²) with σ = r/2
    for (let j = ya; j <= yb; j++) {
      const dy = this.y0 + j + 0.5 - cy;
      const row = j * this.w;
      for (let i = xa; i <= xb; i++) {
        const dx = this.x0 + i + 0.5 - cx;
        const d2 = dx * dx + dy * dy;
        let v: number;
        if (profile === 'flat') {
          const d = Math.sqrt(d2);
          v = d <= r - 0.5 ? amp : d >= r + 0.5 ? 0 : amp * (r + 0.5 - d);
        } else if (profile === 'dome') {
          const q = 1 - d2 / (r * r);
          v = q > 0 ? amp * q * q : 0;
        } else {
          v = d2 < reach * reach ? amp * Math.exp(-d2 * inv2s2) : 0;
        }
        if (v === 0) continue;
        const k = row + i;
        if (combine === 'add') this.data[k] += v;
        else if (Math.abs(v) > Math.abs(this.data[k])) this.data[k] = v;
      }
    }
  }

  /** Calls f(x, y, value) → new value for every cell (image coordinates of the pixel centre). */
  map(f: (x: number, y: number, v: number) => number): void {
    for (let j = 0; j < this.h; j++) {
      const y = this.y0 + j + 0.5;
      for (let i = 0; i < this.w; i++)
        this.data[j * this.w + i] = f(this.x0 + i + 0.5, y, this.data[j * this.w + i]);
    }
  }

  /** The finished mask, every value multiplied by `scale`. */
  toMask(op: MaskOp, scale = 1): Mask {
    if (scale !== 1) for (let k = 0; k < this.data.length; k++) this.data[k] *= scale;
    return { x0: this.x0, y0: this.y0, w: this.w, h: this.h, data: this.data, op };
  }
}
