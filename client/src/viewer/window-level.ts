/**
 * Window/level for the 16-bit viewer: which raw interval [lo, hi] maps onto the 256 display levels, per
 * colour channel. The shader applies exactly the paper's stretch (section 2.3, `lib/imaging/conversions.ts`):
 *
 *     level(x) = min(255, floor((clamp(x, lo, hi) − lo) · 256 / (hi − lo)))
 *
 * so each of the paper's methods is a window, not a separate code path:
 * - method 1 (naive floor(x/256)) is the window [0, 65536) on 16-bit data (identity [0, 256) on 8-bit);
 * - method 2 is [Gmin, Gmax] from `GET /api/dataset/stats`;
 * - method 3 is the image's own [p0_01, p99_99];
 * - method 4 is the three as R, G, B.
 * Pure functions only: unit-tested in Node, used by the viewer component.
 */
import { percentileFromHistogram } from '../../../lib/imaging/stats.ts';

export interface Window {
  lo: number;
  hi: number;
}

/** One window per output channel (R, G, B). A grayscale window repeats the same one three times. */
export type ChannelWindows = readonly [Window, Window, Window];

export type Preset = 'auto' | 'm1' | 'm2' | 'm3' | 'm4';

export const PRESETS: readonly { id: Preset; label: string; title: string }[] = [
  { id: 'auto', label: 'Auto', title: 'Auto window from this image’s histogram (0.5th–99.5th percentile)' },
  { id: 'm1', label: 'M1', title: 'Paper method 1: naive floor(x / 256)' },
  { id: 'm2', label: 'M2', title: 'Paper method 2: dataset-wide bounds (Gmin, Gmax)' },
  { id: 'm3', label: 'M3', title: 'Paper method 3: this image’s 0.01th / 99.99th percentiles' },
  { id: 'm4', label: 'M4', title: 'Paper method 4: methods 1, 2, 3 as R, G, B' },
];

export interface ImageBounds {
  bitDepth: 8 | 16;
  /** The image's own 0.01th / 99.99th percentiles (method 3). */
  p0_01: number;
  p99_99: number;
  /** Full-range counting histogram (65536 or 256 bins) for the auto window; null until decoded. */
  histogram: Uint32Array | null;
  pixels: number;
}

export interface DatasetBounds {
  globalMin: number;
  globalMax: number;
}

export function gray(w: Window): ChannelWindows {
  return [w, w, w];
}

/** Method 1 as a window: [0, 2^bitDepth) makes the stretch equal floor(x / 256) (16-bit) or x (8-bit). */
export function naiveWindow(bitDepth: 8 | 16): Window {
  return { lo: 0, hi: bitDepth === 16 ? 65536 : 256 };
}

/**
 * Auto window: the 0.5th–99.5th percentile of the image's own histogram. Narrower than method 3 on
 * purpose: method 3's 0.01/99.99 bounds are set by rare bright specks (docs/domain.md, "Method 3: local bounds"), which leave the coating
 * (most pixels within ~1100 levels) in a narrow band of grey; 0.5/99.5 shows the coating's texture.
 */
export function autoWindow(b: ImageBounds): Window {
  if (!b.histogram || b.pixels === 0) return { lo: b.p0_01, hi: Math.max(b.p99_99, b.p0_01 + 1) };
  const lo = percentileFromHistogram(b.histogram, b.pixels, 5, 1000);
  const hi = percentileFromHistogram(b.histogram, b.pixels, 995, 1000);
  return { lo, hi: Math.max(hi, lo + 1) };
}

/** The windows of a preset; method 2 (and 4) fall back to the image's bounds when dataset stats are missing. */
export function presetWindows(preset: Preset, b: ImageBounds, dataset: DatasetBounds | null): ChannelWindows {
  const local: Window = { lo: b.p0_01, hi: b.p99_99 };
  const global: Window = dataset ? { lo: dataset.globalMin, hi: dataset.globalMax } : local;
  switch (preset) {
    case 'auto':
      return gray(autoWindow(b));
    case 'm1':
      return gray(naiveWindow(b.bitDepth));
    case 'm2':
      return gray(global);
    case 'm3':
      return gray(local);
    case 'm4':
      return [naiveWindow(b.bitDepth), global, local];
  }
}

/** The paper's stretch of one value to a display level 0..255 (the shader computes the same). */
export function displayLevel(x: number, w: Window): number {
  if (w.hi === w.lo) return x > w.lo ? 255 : 0;
  const c = Math.min(Math.max(x, w.lo), w.hi);
  return Math.min(255, Math.floor(((c - w.lo) * 256) / (w.hi - w.lo)));
}

/**
 * Right-drag: horizontal motion changes the width, vertical motion the level (centre), as in radiology
 * viewers. Sensitivity scales with the current width so a drag across the canvas is useful both on a
 * 1100-level coating window and on the full 16-bit range. Width never drops below 1 level.
 */
export function dragWindow(start: Window, dx: number, dy: number, maxValue: number): Window {
  const width0 = Math.max(1, start.hi - start.lo);
  const centre0 = (start.lo + start.hi) / 2;
  const perPixel = Math.max(width0 / 256, 0.5);
  const width = Math.max(1, width0 + dx * perPixel * 2);
  const centre = centre0 - dy * perPixel;
  let lo = Math.round(centre - width / 2);
  let hi = Math.round(centre + width / 2);
  if (hi <= lo) hi = lo + 1;
  lo = Math.max(-maxValue, lo);
  hi = Math.min(2 * maxValue, hi);
  return { lo, hi };
}

/** Keyboard steps: level ±, width × or ÷ (arrows), 5 % of the width per step. */
export function stepWindow(w: Window, key: 'up' | 'down' | 'left' | 'right'): Window {
  const width = Math.max(1, w.hi - w.lo);
  const step = Math.max(1, Math.round(width * 0.05));
  switch (key) {
    case 'up':
      return { lo: w.lo + step, hi: w.hi + step };
    case 'down':
      return { lo: w.lo - step, hi: w.hi - step };
    case 'right':
      return { lo: w.lo - step, hi: w.hi + step };
    case 'left':
      return width - 2 * step >= 1 ? { lo: w.lo + step, hi: w.hi - step } : w;
  }
}
