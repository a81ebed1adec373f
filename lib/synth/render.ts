/**
 * Streaming renderer of one synthetic electrode X-ray. Setting up an image draws its anomalies into small masks and
 * per-row/per-column border tables; `row(y, out)` then produces one row at a time, so writing an image never needs
 * more than a few rows of memory besides the masks.
 *
 * Image model (values grow with density, as in the paper's data where the coating lies in 1700–2800):
 *
 *   value = S + T · (C − S + grain + slow + gradient) + noise,   clamped to 0..65535, rounded
 *
 * S: bare substrate, C: nominal coating, T: relative coating thickness (0 in the uncoated margins, 1 on a nominal
 * coating, changed by borders, beads, banding and anomaly masks), grain: the coating's texture (bundle-specific
 * correlated noise), slow: low-frequency density variation, gradient: a slight linear thickness gradient,
 * noise: detector noise. Bright particles and hot pixels are then stamped on top (value = max(value, particle)).
 *
 * Per pixel the hot loop does three table reads and a handful of float operations; everything expensive (masks,
 * tiles, borders) is precomputed per image or per bundle.
 */
import { GEOMETRY_FIRST, RENDERERS, type Layout } from './anomalies.ts';
import { MaskCanvas, type Mask } from './mask.ts';
import {
  SCALE_FACTOR,
  anomalySeed,
  type AnomalyType,
  type BundleProfile,
  type DatasetPlan,
  type ImageSpec,
} from './plan.ts';
import { Rng } from './random.ts';
import {
  TILE_MASK,
  TILE_SHIFT,
  grainTile,
  smoothNoise1d,
  valueGrid,
  valueGridRow,
  whiteTile,
  type ValueGrid,
} from './textures.ts';

interface BundleTextures {
  noise: Float32Array;
  grain: Float32Array;
}

const textureCache = new Map<string, BundleTextures>();

/** Noise and grain tiles of a bundle (computed once per thread and cached: ~20 ms each). */
function bundleTextures(seed: number, bundle: BundleProfile, k: number): BundleTextures {
  const key = `${seed}:${bundle.index}:${k}`;
  let t = textureCache.get(key);
  if (!t) {
    t = {
      noise: whiteTile(Rng.at(seed, 'noise-tile', bundle.index)),
      grain: grainTile(Rng.at(seed, 'grain-tile', bundle.index), bundle.grainRadius * k),
    };
    if (textureCache.size > 32) textureCache.clear();
    textureCache.set(key, t);
  }
  return t;
}

/** A rectangle [x0, x1) × [y0, y1) in pixels. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Where an anomaly was drawn: one box per part (each scratch, notch, bubble cluster, banded stretch…). */
export interface AnomalyRegion {
  type: AnomalyType;
  severity: number;
  boxes: Box[];
}

export class ElectrodeRenderer {
  readonly width: number;
  readonly height: number;
  /** Where each anomaly was drawn (bounding boxes in pixels), for previews and the contact sheet. */
  readonly regions: AnomalyRegion[] = [];
  private readonly layout: Layout;
  private readonly substrate: number;
  private readonly contrast: number;
  private readonly noiseSd: number;
  private readonly grainAmp: number;
  private readonly gradX: number;
  private readonly gradY: number;
  private readonly slow: ValueGrid;
  private readonly slowAmp: number;
  private readonly tex: BundleTextures;
  private readonly offsets: { gx: number; gy: number; nx: number; ny: number };
  private readonly ramp: number;
  private readonly beadLut: Float32Array;
  private readonly endLut: Float32Array;
  private readonly topZone: number;
  private readonly bottomZone: number;
  private readonly masks: Mask[];
  private readonly values: Mask[];
  // Row scratch buffers.
  private readonly T: Float32Array;
  private readonly slowRow: Float32Array;
  private readonly coarse: Float32Array;

  constructor(plan: Pick<DatasetPlan, 'seed' | 'scale' | 'bundles'>, image: ImageSpec) {
    const bundle = plan.bundles[image.bundleIndex];
    const k = SCALE_FACTOR[plan.scale];
    const r = Rng.at(plan.seed, 'render', image.index);
    const W = image.width;
    const H = image.height;
    this.width = W;
    this.height = H;

    this.substrate = bundle.substrate + r.normal() * 3;
    this.contrast = bundle.coating + r.normal() * 12 - this.substrate;
    this.noiseSd = bundle.noise;
    this.grainAmp = bundle.grainAmp;
    this.gradX = bundle.gradientX + r.normal() * 8;
    this.gradY = bundle.gradientY + r.normal() * 8;
    this.slowAmp = bundle.lowFreqAmp;
    this.slow = valueGrid(r, W, H, bundle.lowFreqCell * k);
    this.tex = bundleTextures(plan.seed, bundle, k);
    this.offsets = {
      gx: r.int(0, TILE_MASK),
      gy: r.int(0, TILE_MASK),
      nx: r.int(0, TILE_MASK),
      ny: r.int(0, TILE_MASK),
    };

    // Nominal coated rectangle and its (slightly rough) borders.
    const mxl = bundle.marginX * W * r.range(0.85, 1.15);
    const mxr = bundle.marginX * W * r.range(0.85, 1.15);
    const myt = bundle.marginY * H * r.range(0.85, 1.15);
    const myb = bundle.marginY * H * r.range(0.85, 1.15);
    const jitter = bundle.edgeJitter * Math.max(k, 0.25);
    const l: Layout = {
      W,
      H,
      k,
      cx0: mxl,
      cx1: W - mxr,
      cy0: myt,
      cy1: H - myb,
      xl: new Float32Array(H),
      xr: new Float32Array(H),
      ys: new Float32Array(W),
      ye: new Float32Array(W),
      band: new Float32Array(H),
      masks: [],
      values: [],
    };
    const nl = smoothNoise1d(r, H, 25 * k);
    const nr = smoothNoise1d(r, H, 25 * k);
    for (let y = 0; y < H; y++) {
      l.xl[y] = l.cx0 + jitter * nl[y];
      l.xr[y] = l.cx1 + jitter * nr[y];
    }
    const nt = smoothNoise1d(r, W, 25 * k);
    const nb = smoothNoise1d(r, W, 25 * k);
    for (let x = 0; x < W; x++) {
      l.ys[x] = l.cy0 + jitter * nt[x];
      l.ye[x] = l.cy1 + jitter * nb[x];
    }
    // Weak banding every plate of the bundle shows.
    const bandPeriod = r.range(80, 200) * k;
    const bandPhase = r.range(0, 6.28);
    for (let y = 0; y < H; y++)
      l.band[y] = bundle.bandAmp * Math.sin((2 * Math.PI * y) / bandPeriod + bandPhase);

    // Anomalies: border-shaping types first, then the rest in severity order.
    const ordered = image.anomalies
      .map((a, i) => ({ a, i }))
      .sort(
        (p, q) =>
          Number(GEOMETRY_FIRST.includes(q.a.type)) - Number(GEOMETRY_FIRST.includes(p.a.type)) || p.i - q.i,
      );
    for (const { a, i } of ordered) {
      const before = snapshot(l);
      RENDERERS[a.type](l, a.severity, new Rng(anomalySeed(plan.seed, image.index, i)));
      this.regions.push({ type: a.type, severity: a.severity, boxes: changedBoxes(before, l) });
    }

    if (image.artifact)
      addParticles(
        l,
        image.artifact.peak,
        image.artifact.coverage,
        Rng.at(plan.seed, 'particles', image.index),
      );
    addHotPixels(l, Rng.at(plan.seed, 'hot', image.index));

    this.layout = l;
    this.masks = l.masks;
    this.values = l.values;
    this.ramp = Math.max(0.8, 2 * k);
    // Thickening along the side edges (edge bead) and at the coating's start/end (end bead), by distance in px.
    const beadW = Math.max(1, 14 * k);
    this.beadLut = Float32Array.from(
      { length: Math.ceil(beadW * 4) },
      (_, d) => 1 + bundle.edgeBead * Math.exp(-d / beadW),
    );
    const endW = Math.max(1, 8 * k);
    this.endLut = Float32Array.from(
      { length: Math.ceil(endW * 4) },
      (_, d) => 1 + bundle.endBead * Math.exp(-d / endW),
    );
    let ysMax = 0;
    let yeMin = H;
    for (let x = 0; x < W; x++) {
      ysMax = Math.max(ysMax, l.ys[x]);
      yeMin = Math.min(yeMin, l.ye[x]);
    }
    this.topZone = ysMax + this.endLut.length + this.ramp;
    this.bottomZone = yeMin - this.endLut.length - this.ramp;

    this.T = new Float32Array(W);
    this.slowRow = new Float32Array(W);
    this.coarse = new Float32Array(this.slow.cols);
  }

  /** Writes row y into `out` (length = width). */
  row(y: number, out: Uint16Array): void {
    const { W, H, xl, xr, ys, ye, band } = this.layout;
    const T = this.T;
    const ramp = this.ramp;
    const half = ramp / 2;

    // 1. Coating thickness from the side borders, with the edge bead. Only the few pixels near a border need the
    //    ramp and bead; the interior is a fill.
    T.fill(0);
    const left = xl[y];
    const right = xr[y];
    const beadLut = this.beadLut;
    const beadN = beadLut.length;
    const xa = Math.max(0, Math.floor(left - half));
    const xb = Math.min(W - 1, Math.ceil(right + half));
    const ia = Math.max(xa, Math.ceil(left + beadN));
    const ib = Math.min(xb + 1, Math.floor(right - beadN - 1));
    const edgePixel = (x: number) => {
      const c = x + 0.5;
      const dl = c - left;
      const dr = right - c;
      const d = dl < dr ? dl : dr;
      if (d <= -half) return;
      let t = d >= half ? 1 : (d + half) / ramp;
      if (d < beadN) t *= beadLut[d > 0 ? d | 0 : 0];
      T[x] = t;
    };
    if (ia < ib) {
      for (let x = xa; x < ia; x++) edgePixel(x);
      T.fill(1, ia, ib);
      for (let x = ib; x <= xb; x++) edgePixel(x);
    } else for (let x = xa; x <= xb; x++) edgePixel(x);

    // 2. Coating start and end (per column), with the end bead.
    if (y < this.topZone || y > this.bottomZone) {
      const endLut = this.endLut;
      const endN = endLut.length;
      const c = y + 0.5;
      for (let x = xa; x <= xb; x++) {
        if (T[x] === 0) continue;
        const dt = c - ys[x];
        const db = ye[x] - c;
        const d = dt < db ? dt : db;
        if (d <= -half) T[x] = 0;
        else {
          let t = d >= half ? 1 : (d + half) / ramp;
          if (d < endN) t *= endLut[d > 0 ? d | 0 : 0];
          T[x] *= t;
        }
      }
    }

    // 3. Anomaly masks.
    for (const m of this.masks) {
      const j = y - m.y0;
      if (j < 0 || j >= m.h) continue;
      const i0 = Math.max(0, -m.x0);
      const i1 = Math.min(m.w, W - m.x0);
      const base = j * m.w;
      const data = m.data;
      if (m.op === 'add') for (let i = i0; i < i1; i++) T[m.x0 + i] += data[base + i];
      else for (let i = i0; i < i1; i++) T[m.x0 + i] *= 1 + data[base + i];
    }

    // 4. Compose values (banding folded in: T outside the coating is 0 anyway).
    valueGridRow(this.slow, y, this.slowAmp, this.slowRow, this.coarse);
    const slowRow = this.slowRow;
    const S = this.substrate;
    const CS = this.contrast + this.gradY * (y / H - 0.5);
    const f = 1 + band[y];
    const gx = this.gradX / W;
    const gxOff = -this.gradX / 2;
    const grain = this.tex.grain;
    const noise = this.tex.noise;
    const ga = this.grainAmp;
    const ns = this.noiseSd;
    const o = this.offsets;
    const gRow = ((y + o.gy) & TILE_MASK) << TILE_SHIFT;
    const nRow = ((y * 7 + o.ny) & TILE_MASK) << TILE_SHIFT; // different row stride than grain: no shared pattern
    const gox = o.gx;
    const nox = o.nx;
    for (let x = 0; x < W; x++) {
      let t = T[x] * f;
      if (t < 0) t = 0;
      let v =
        S +
        t * (CS + gxOff + gx * x + slowRow[x] + ga * grain[gRow + ((x + gox) & TILE_MASK)]) +
        ns * noise[nRow + ((x + nox) & TILE_MASK)];
      v = v < 0 ? 0 : v > 65535 ? 65535 : v;
      out[x] = v + 0.5;
    }

    // 5. Bright particles and hot pixels.
    for (const m of this.values) {
      const j = y - m.y0;
      if (j < 0 || j >= m.h) continue;
      const i0 = Math.max(0, -m.x0);
      const i1 = Math.min(m.w, W - m.x0);
      for (let i = i0; i < i1; i++) {
        const v = m.data[j * m.w + i];
        if (v > out[m.x0 + i]) out[m.x0 + i] = v;
      }
    }
  }

  /** The whole image in memory (tests, previews). Streaming writers should call row() instead. */
  toArray(): Uint16Array {
    const px = new Uint16Array(this.width * this.height);
    for (let y = 0; y < this.height; y++) this.row(y, px.subarray(y * this.width, (y + 1) * this.width));
    return px;
  }
}

/**
 * Bright foreign particles: one or two clusters of specks whose cores are flat at exactly `peak`, drawn until the
 * flat pixels cover at least `coverage` of the image. A flat top makes the image's 99.99th percentile exactly
 * `peak` when coverage > 0.01 % (section 2.3.2's global upper bound), whatever percentile definition a reader uses.
 */
function addParticles(l: Layout, peak: number, coverage: number, r: Rng): void {
  const target = Math.ceil(coverage * l.W * l.H);
  const clusters = r.chance(0.5) ? 2 : 1;
  const centres = Array.from({ length: clusters }, () => ({
    x: r.range(l.W * 0.1, l.W * 0.9),
    y: r.range(l.H * 0.05, l.H * 0.95),
    spread: r.range(30, 130) * l.k + 2,
  }));
  const canvas = MaskCanvas.around(
    centres.map((c) => ({ x: c.x, y: c.y, r: 4 * c.spread + 5 })),
    0,
  );
  const d = canvas.data;
  let flat = 0;
  for (let i = 0; flat < target && i < 100_000; i++) {
    const c = centres[i % clusters];
    const rad = Math.max(1.1, r.range(1.5, 3.5) * l.k);
    const reach = rad + 0.5;
    // Keep every speck, rim included, inside both the image and the canvas.
    const lo = (a: number, b: number) => Math.max(a, b) + reach + 1;
    const cx = Math.min(
      Math.max(c.x + r.normal() * c.spread, lo(0, canvas.x0)),
      Math.min(l.W, canvas.x0 + canvas.w) - reach - 1,
    );
    const cy = Math.min(
      Math.max(c.y + r.normal() * c.spread, lo(0, canvas.y0)),
      Math.min(l.H, canvas.y0 + canvas.h) - reach - 1,
    );
    for (let y = Math.floor(cy - reach); y <= cy + reach; y++) {
      for (let x = Math.floor(cx - reach); x <= cx + reach; x++) {
        const k = (y - canvas.y0) * canvas.w + (x - canvas.x0);
        if (d[k] === peak) continue;
        const dist = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        if (dist <= rad - 0.5) {
          d[k] = peak;
          flat++;
        } else if (dist < rad + 0.5) d[k] = Math.max(d[k], Math.round(peak * 0.5 * (rad + 0.5 - dist)));
      }
    }
  }
  l.values.push(canvas.toMask('add'));
}

/** A few isolated hot pixels per image (≈ 3 per million pixels): rare bright noise that never moves a percentile. */
function addHotPixels(l: Layout, r: Rng): void {
  const n = Math.floor(l.W * l.H * 3e-6 + r.next());
  for (let i = 0; i < n; i++) {
    const x = r.int(0, l.W - 1);
    const y = r.int(0, l.H - 1);
    const m = new MaskCanvas(x, y, x + 1, y + 1);
    m.data[0] = r.range(3000, 9000);
    l.values.push(m.toMask('add'));
  }
}

interface Snapshot {
  xl: Float32Array;
  xr: Float32Array;
  ys: Float32Array;
  ye: Float32Array;
  band: Float32Array;
  masks: number;
}

function snapshot(l: Layout): Snapshot {
  return {
    xl: l.xl.slice(),
    xr: l.xr.slice(),
    ys: l.ys.slice(),
    ye: l.ye.slice(),
    band: l.band.slice(),
    masks: l.masks.length,
  };
}

/**
 * Boxes around what an anomaly changed: one per new mask, one per run of rows whose left or right border moved
 * (a notch, a wave), one per run of columns whose start/end moved, one per run of banded rows.
 */
function changedBoxes(b: Snapshot, l: Layout): Box[] {
  const boxes: Box[] = l.masks
    .slice(b.masks)
    .map((m) => ({ x0: m.x0, y0: m.y0, x1: m.x0 + m.w, y1: m.y0 + m.h }));
  const runs = (n: number, changed: (i: number) => boolean, box: (i0: number, i1: number) => Box) => {
    for (let i = 0; i < n; i++) {
      if (!changed(i)) continue;
      let j = i;
      while (j + 1 < n && changed(j + 1)) j++;
      boxes.push(box(i, j + 1));
      i = j;
    }
  };
  const span = (a: Float32Array, c: Float32Array, i0: number, i1: number) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = i0; i < i1; i++) {
      lo = Math.min(lo, a[i], c[i]);
      hi = Math.max(hi, a[i], c[i]);
    }
    return [lo, hi] as const;
  };
  for (const [now, was] of [
    [l.xl, b.xl],
    [l.xr, b.xr],
  ] as const) {
    runs(
      l.H,
      (y) => now[y] !== was[y],
      (y0, y1) => {
        const [x0, x1] = span(now, was, y0, y1);
        return { x0, y0, x1, y1 };
      },
    );
  }
  for (const [now, was] of [
    [l.ys, b.ys],
    [l.ye, b.ye],
  ] as const) {
    runs(
      l.W,
      (x) => now[x] !== was[x],
      (x0, x1) => {
        const [y0, y1] = span(now, was, x0, x1);
        return { x0, y0, x1, y1 };
      },
    );
  }
  runs(
    l.H,
    (y) => l.band[y] !== b.band[y],
    (y0, y1) => ({ x0: 0, y0, x1: l.W, y1 }),
  );
  return boxes.map((q) => ({
    x0: Math.max(0, Math.floor(q.x0)),
    y0: Math.max(0, Math.floor(q.y0)),
    x1: Math.min(l.W, Math.ceil(q.x1)),
    y1: Math.min(l.H, Math.ceil(q.y1)),
  }));
}

/** Renders image `image` of `plan` into a new array (convenience for tests and the contact sheet). */
export function renderImage(
  plan: Pick<DatasetPlan, 'seed' | 'scale' | 'bundles'>,
  image: ImageSpec,
): Uint16Array {
  return new ElectrodeRenderer(plan, image).toArray();
}
