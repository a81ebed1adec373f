/**
 * Hand-built test pictures for the evidence tests: a level, white Gaussian noise and whatever a test paints on
 * top, in float raw units, then quantised to 8 or 16 bits. Deliberately not the synthetic data generator: the
 * evidence must work on real radiographs, so its tests use only generic, explicitly stated structures.
 */
import type { GrayImage } from '../../../lib/imaging/gray-image.ts';

/** mulberry32: a small seeded generator, so every test picture is the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Picture {
  width: number;
  height: number;
  /** Raw values (16-bit scale), row-major. */
  v: Float64Array;
}

/** A flat picture at `level` with white Gaussian noise of `sigma` (Box–Muller). */
export function noisePicture(width: number, height: number, level: number, sigma: number, seed = 1): Picture {
  const rand = seeded(seed);
  const v = new Float64Array(width * height);
  for (let i = 0; i < v.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const a = 2 * Math.PI * rand();
    v[i] = level + sigma * r * Math.cos(a);
    if (i + 1 < v.length) v[i + 1] = level + sigma * r * Math.sin(a);
  }
  return { width, height, v };
}

/** Adds `f(x, y)` to every pixel. */
export function paint(p: Picture, f: (x: number, y: number) => number): Picture {
  for (let y = 0; y < p.height; y++) for (let x = 0; x < p.width; x++) p.v[y * p.width + x] += f(x, y);
  return p;
}

/** Rounds to 16 bits (clamped). */
export function to16(p: Picture): GrayImage {
  const data = new Uint16Array(p.v.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(65535, Math.max(0, Math.round(p.v[i])));
  return { width: p.width, height: p.height, bitDepth: 16, data };
}

/** The same picture on the 8-bit scale (value / 257, rounded and clamped). */
export function to8(p: Picture): GrayImage {
  const data = new Uint8Array(p.v.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(p.v[i] / 257)));
  return { width: p.width, height: p.height, bitDepth: 8, data };
}
