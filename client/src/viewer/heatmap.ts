/**
 * How a heatmap (noise units, lib/api-types/images.ts HeatmapDto) becomes colour: one function for the viewer's
 * overlay and the review queue's thumbnails. Values are absolute, never stretched per image: a plate with nothing
 * unusual must look empty, not show its loudest noise as "hot".
 */
import type { HeatmapDto } from '../../../lib/api-types/images.ts';

/** At or below this (ordinary noise: |z| ~0–3) a cell is fully transparent. */
export const HEAT_FLOOR = 2.5;
/** From here on (strong evidence: > 5) a cell has the ramp's last colour and full opacity. */
export const HEAT_CEIL = 8;

/**
 * Inferno (matplotlib, van der Walt & Smith): perceptually uniform and monotone in lightness, so "brighter" reads
 * as "stronger" also in grayscale and for colour-blind readers. Eight stops, linearly interpolated; the ramp
 * starts past inferno's near-black so faint evidence stays visible over a dark X-ray.
 */
const INFERNO: readonly (readonly [number, number, number])[] = [
  [40, 11, 84],
  [87, 16, 110],
  [137, 34, 106],
  [186, 54, 85],
  [227, 89, 51],
  [249, 140, 10],
  [249, 201, 50],
  [252, 255, 164],
];

/** RGBA (0–255) of one value: transparent up to HEAT_FLOOR, then rising in colour and opacity to HEAT_CEIL. */
export function heatColour(value: number): [number, number, number, number] {
  const t = Math.min(1, Math.max(0, (value - HEAT_FLOOR) / (HEAT_CEIL - HEAT_FLOOR)));
  if (t === 0) return [0, 0, 0, 0];
  const x = t * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [INFERNO[i], INFERNO[i + 1]];
  const mix = (k: number) => Math.round(a[k] + (b[k] - a[k]) * f);
  // Opacity grows faster than the colour at first (t^0.6), so a cell just above the noise is already seen.
  return [mix(0), mix(1), mix(2), Math.round(255 * Math.pow(t, 0.6))];
}

/** The heatmap as RGBA pixels, one per cell, row-major (an ImageData's layout). */
export function heatmapRgba(
  h: Pick<HeatmapDto, 'width' | 'height' | 'values'>,
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(h.width * h.height * 4);
  for (let i = 0; i < h.width * h.height; i++) out.set(heatColour(h.values[i] ?? 0), i * 4);
  return out;
}

/**
 * A canvas of one pixel per cell. Drawn scaled with image smoothing, the browser interpolates it bilinearly
 * between cell centres — a smooth map, with cell (x, y)'s centre at image position ((x + ½)·W/w, (y + ½)·H/h).
 */
export function heatmapCanvas(h: HeatmapDto): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = h.width;
  c.height = h.height;
  c.getContext('2d')!.putImageData(new ImageData(heatmapRgba(h), h.width, h.height), 0, 0);
  return c;
}
