/**
 * Cheap noise for streaming rendering. Per-pixel Gaussian noise and coating grain come from 512×512 tiles computed
 * once per bundle and read with per-image random offsets (two array reads per pixel instead of a PRNG call, a log
 * and a cosine). A tile repeats every 512 px, which is invisible in white noise and in grain a few pixels wide.
 */
import { Rng } from './random.ts';

export const TILE_SHIFT = 9;
export const TILE = 1 << TILE_SHIFT;
export const TILE_MASK = TILE - 1;

/** A TILE×TILE tile of independent standard-normal values. */
export function whiteTile(rng: Rng): Float32Array {
  const t = new Float32Array(TILE * TILE);
  // Box–Muller, both outputs of each pair.
  for (let i = 0; i < t.length; i += 2) {
    const m = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const a = 2 * Math.PI * rng.next();
    t[i] = m * Math.cos(a);
    t[i + 1] = m * Math.sin(a);
  }
  return t;
}

/**
 * A TILE×TILE tile of correlated ("grainy") noise with unit standard deviation: white noise blurred by three box
 * filters of radius ≈ `radius` (a close approximation of a Gaussian blur), wrapping around so the tile stays
 * seamless. Radius below 0.5 px means no correlation (white noise).
 */
export function grainTile(rng: Rng, radius: number): Float32Array {
  let t = whiteTile(rng);
  const r = Math.round(radius);
  if (r >= 1) {
    for (let pass = 0; pass < 3; pass++) {
      t = boxBlurWrap(t, r, true);
      t = boxBlurWrap(t, r, false);
    }
  }
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < t.length; i++) {
    sum += t[i];
    sq += t[i] * t[i];
  }
  const mean = sum / t.length;
  const sd = Math.sqrt(sq / t.length - mean * mean) || 1;
  for (let i = 0; i < t.length; i++) t[i] = (t[i] - mean) / sd;
  return t;
}

function boxBlurWrap(src: Float32Array, r: number, horizontal: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const inv = 1 / (2 * r + 1);
  // Element i of line `line` lives at base + (i & TILE_MASK) * step.
  const step = horizontal ? 1 : TILE;
  for (let line = 0; line < TILE; line++) {
    const base = horizontal ? line << TILE_SHIFT : line;
    let acc = 0;
    for (let i = -r; i <= r; i++) acc += src[base + (i & TILE_MASK) * step];
    for (let i = 0; i < TILE; i++) {
      out[base + i * step] = acc * inv;
      acc += src[base + ((i + r + 1) & TILE_MASK) * step] - src[base + ((i - r) & TILE_MASK) * step];
    }
  }
  return out;
}

/**
 * Smooth 1-D noise of length n: random values every `cell` samples joined by cosine interpolation, scaled to
 * roughly unit amplitude. Used for ragged borders and irregular shapes.
 */
export function smoothNoise1d(rng: Rng, n: number, cell: number): Float32Array {
  const c = Math.max(1, cell);
  const knots = Math.ceil(n / c) + 2;
  const k = Float64Array.from({ length: knots }, () => rng.normal());
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = i / c;
    const j = Math.floor(u);
    const f = (1 - Math.cos(Math.PI * (u - j))) / 2;
    out[i] = k[j] * (1 - f) + k[j + 1] * f;
  }
  return out;
}

/** A coarse grid of standard-normal values for bilinear "value noise" (slow density variation). */
export interface ValueGrid {
  cell: number;
  cols: number;
  rows: number;
  values: Float32Array;
}

export function valueGrid(rng: Rng, width: number, height: number, cell: number): ValueGrid {
  const c = Math.max(2, cell);
  const cols = Math.ceil(width / c) + 2;
  const rows = Math.ceil(height / c) + 2;
  const values = new Float32Array(cols * rows);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  return { cell: c, cols, rows, values };
}

/** Writes row y of the bilinear interpolation of `g` (times `amp`) into out[0..width). */
export function valueGridRow(
  g: ValueGrid,
  y: number,
  amp: number,
  out: Float32Array,
  coarse: Float32Array,
): void {
  const v = y / g.cell;
  const j = Math.floor(v);
  const fy = v - j;
  const r0 = j * g.cols;
  const r1 = r0 + g.cols;
  for (let i = 0; i < g.cols; i++) coarse[i] = amp * (g.values[r0 + i] * (1 - fy) + g.values[r1 + i] * fy);
  const inv = 1 / g.cell;
  for (let x = 0; x < out.length; x++) {
    const u = x * inv;
    const i = u | 0;
    const fx = u - i;
    out[x] = coarse[i] + (coarse[i + 1] - coarse[i]) * fx;
  }
}
