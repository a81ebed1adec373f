/**
 * The paper's 11 anomaly types (section 2.2.2), each drawn as the issue describes it looks on an electrode X-ray.
 * Pixel values grow with coating density, so defects that remove coating (scratches, missing ink, bubbles) are
 * darker and defects that pile it up (agglomerates, drips, beads) are brighter.
 *
 * Every renderer takes a severity s in [0, 1] and scales size, count and contrast continuously with it, so an
 * anomaly at 0.45 (minor, normal electrode) and one at 0.55 (severe, abnormal) look alike: the borderline cases.
 * Severe cases (s ≥ 0.5) are meant to stay visible after resizing a ~1145×2072 image to 448×224 (≈ 4.7× smaller):
 * their features are several pixels wide after resizing, and their contrast is ≥ ~150 grey values (16-bit) over
 * areas of tens of resized pixels, or much more over thin structures.
 *
 * Lengths below are written in full-resolution pixels and multiplied by the scale factor `k` (1/8 at small scale).
 */
import { MaskCanvas, type Mask } from './mask.ts';
import type { AnomalyType } from './plan.ts';
import type { Rng } from './random.ts';
import { smoothNoise1d } from './textures.ts';

/** The image being set up: border geometry, banding and masks that the streaming renderer will apply. */
export interface Layout {
  W: number;
  H: number;
  /** Scale factor: 1 at full scale, 1/8 at small scale. */
  k: number;
  /** Nominal coated rectangle [cx0, cx1) × [cy0, cy1). */
  cx0: number;
  cx1: number;
  cy0: number;
  cy1: number;
  /** Left and right coating border per row (x of the border, fractional). */
  xl: Float32Array;
  xr: Float32Array;
  /** Coating start and end per column (y, fractional). */
  ys: Float32Array;
  ye: Float32Array;
  /** Relative thickness modulation per row: T *= 1 + band[y]. */
  band: Float32Array;
  /** Thickness masks, applied in order. */
  masks: Mask[];
  /** Value masks: value = max(value, m) (bright particles, hot pixels). */
  values: Mask[];
}

type Renderer = (l: Layout, s: number, r: Rng) => void;

/** Border-shaping types run first so that mask-based types (edge ink flow) follow the final border. */
export const GEOMETRY_FIRST: readonly AnomalyType[] = ['edge_cuts', 'edge_tensions', 'ink_entry_exit'];

const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);

function pointInCoating(l: Layout, r: Rng, pad: number): { x: number; y: number } {
  const p = Math.min(pad, (l.cx1 - l.cx0) / 3, (l.cy1 - l.cy0) / 3);
  return { x: r.range(l.cx0 + p, l.cx1 - p), y: r.range(l.cy0 + p, l.cy1 - p) };
}

/** Scratches: thin curved streaks where coating was scraped off, often near the edges (paper figure 2a). */
const scratches: Renderer = (l, s, r) => {
  const k = l.k;
  const n = 1 + Math.floor(s * 2.5 + r.next() * 0.5);
  for (let q = 0; q < n; q++) {
    const length = (120 + 700 * s) * k * r.range(0.7, 1.3);
    const radius = ((1.5 + 7 * s) * k * r.range(0.8, 1.2)) / 2;
    const depth = Math.min(0.95, (0.25 + 0.6 * s) * r.range(0.85, 1.15));
    const nearEdge = r.chance(0.5);
    let x: number;
    let angle: number;
    if (nearEdge) {
      const inset = r.range(15, 120) * k;
      x = r.chance(0.5) ? l.cx0 + inset : l.cx1 - inset;
      angle = Math.PI / 2 + r.normal() * 0.35; // handling marks run along the edge
    } else {
      x = r.range(l.cx0, l.cx1);
      angle = r.range(0, Math.PI);
    }
    const y = r.range(l.cy0, Math.max(l.cy0 + 1, l.cy1 - length * Math.abs(Math.sin(angle))));
    const ex = clamp(x + length * Math.cos(angle), l.cx0, l.cx1);
    const ey = clamp(y + length * Math.sin(angle), l.cy0, l.cy1);
    const bend = length * r.range(-0.25, 0.25);
    const len = Math.hypot(ex - x, ey - y) || 1;
    const mx = (x + ex) / 2 - ((ey - y) / len) * bend;
    const my = (y + ey) / 2 + ((ex - x) / len) * bend;
    const steps = Math.max(4, Math.ceil(len / 0.5));
    const pts = Array.from({ length: steps + 1 }, (_, i) => {
      const t = i / steps;
      const a = (1 - t) * (1 - t);
      const b = 2 * (1 - t) * t;
      const c = t * t;
      return { x: a * x + b * mx + c * ex, y: a * y + b * my + c * ey, r: radius, t };
    });
    const canvas = MaskCanvas.around(pts, 2);
    const wobble = r.range(0, 10);
    for (const p of pts) {
      // Tapered ends and uneven pressure along the stroke.
      const taper = Math.min(1, p.t / 0.08, (1 - p.t) / 0.08) * (0.8 + 0.2 * Math.sin(wobble + p.t * 17));
      canvas.disc(p.x, p.y, p.r, taper, 'flat', 'max');
    }
    l.masks.push(canvas.toMask('mul', -depth));
  }
};

/** Lines: long straight streaks along the coating direction (vertical), mostly thinner coating, some thicker. */
const lines: Renderer = (l, s, r) => {
  const k = l.k;
  const n = 1 + Math.floor(s * 2 + r.next() * 0.6);
  const coatH = l.cy1 - l.cy0;
  for (let q = 0; q < n; q++) {
    const x = r.range(l.cx0 + 30 * k, l.cx1 - 30 * k);
    const len = Math.min(coatH, (0.35 + 0.65 * s) * coatH * r.range(0.8, 1));
    const ya = r.chance(0.5) ? l.cy0 : r.range(l.cy0, l.cy1 - len);
    const half = Math.max(0.7, ((2 + 9 * s) * k * r.range(0.8, 1.2)) / 2);
    const amp = (0.08 + 0.45 * s) * r.range(0.85, 1.15) * (r.chance(0.7) ? -1 : 1);
    const slant = r.range(-3, 3) * k;
    const fade = Math.max(2, 40 * k);
    const phase = r.range(0, 6.28);
    const canvas = new MaskCanvas(x - 2 * half - 4 * k - 2, ya, x + 2 * half + 4 * k + 2, ya + len);
    canvas.map((px, py) => {
      const t = (py - ya) / len;
      const cx = x + slant * t;
      const d = Math.abs(px - cx) / half;
      if (d >= 1) return 0;
      const across = (1 - d * d) ** 2;
      const along =
        Math.min(1, (py - ya) / fade, (ya + len - py) / fade) * (1 + 0.15 * Math.sin(phase + t * 9));
      return across * Math.max(0, along);
    });
    l.masks.push(canvas.toMask('mul', amp));
  }
};

/** Edge cuts: V- or U-shaped notches where the coating border is cut back to bare substrate. */
const edgeCuts: Renderer = (l, s, r) => {
  const k = l.k;
  const n = 1 + Math.floor(s * 2 + r.next() * 0.7);
  for (let q = 0; q < n; q++) {
    const left = r.chance(0.5);
    const cy = r.range(l.cy0 + 60 * k, l.cy1 - 60 * k);
    const depth = (6 + 110 * s) * k * r.range(0.8, 1.2);
    const half = Math.max(1, (5 + 55 * s) * k * r.range(0.7, 1.3));
    const vee = r.chance(0.5);
    for (let y = Math.max(0, Math.floor(cy - half)); y <= Math.min(l.H - 1, Math.ceil(cy + half)); y++) {
      const u = Math.abs(y + 0.5 - cy) / half;
      if (u >= 1) continue;
      const f = vee ? 1 - u : Math.sqrt(1 - u * u);
      if (left) l.xl[y] = Math.max(l.xl[y], l.cx0 + depth * f);
      else l.xr[y] = Math.min(l.xr[y], l.cx1 - depth * f);
    }
  }
};

/** Edge tensions: the coating border waves in and out over a stretch of the plate. */
const edgeTensions: Renderer = (l, s, r) => {
  const k = l.k;
  const both = s > 0.6 && r.chance(0.5);
  const first = r.chance(0.5);
  const coatH = l.cy1 - l.cy0;
  for (const left of both ? [true, false] : [first]) {
    const amp = (2 + 26 * s) * k * r.range(0.8, 1.2);
    const wavelength = r.range(160, 480) * k;
    const extent = (0.3 + 0.7 * s) * coatH;
    const ya = r.range(l.cy0, l.cy1 - extent);
    const p1 = r.range(0, 6.28);
    const p2 = r.range(0, 6.28);
    const border = left ? l.xl : l.xr;
    for (let y = Math.max(0, Math.floor(ya)); y < Math.min(l.H, ya + extent); y++) {
      const env = Math.sin((Math.PI * (y - ya)) / extent) ** 2;
      const w =
        Math.sin((2 * Math.PI * y) / wavelength + p1) + 0.15 * Math.sin((4 * Math.PI * y) / wavelength + p2);
      border[y] += amp * env * w;
    }
  }
};

/** Smudges: soft low-frequency blotches of extra (or wiped) ink, irregular and elongated. */
const smudges: Renderer = (l, s, r) => {
  const k = l.k;
  const n = 1 + (r.chance(0.3 + 0.4 * s) ? 1 : 0);
  for (let q = 0; q < n; q++) {
    const R = (60 + 260 * s) * k * r.range(0.7, 1.2);
    const aspect = r.range(1, 2.2);
    const angle = r.range(0, Math.PI);
    const amp = (0.08 + 0.5 * s) * r.range(0.85, 1.15) * (r.chance(0.65) ? 1 : -1);
    const c = pointInCoating(l, r, R * 0.5);
    const ca = Math.cos(angle);
    const sa = Math.sin(angle);
    const sigma = R / 2;
    const reach = 2.5 * sigma * aspect;
    const canvas = new MaskCanvas(c.x - reach, c.y - reach, c.x + reach, c.y + reach);
    // Irregularity: the Gaussian is modulated by a 5×5 bilinear field of factors 0.4–1.6.
    const g = Float64Array.from({ length: 36 }, () => r.range(0.4, 1.6));
    canvas.map((x, y) => {
      const dx = x - c.x;
      const dy = y - c.y;
      const u = (dx * ca + dy * sa) / aspect;
      const v = -dx * sa + dy * ca;
      const d2 = (u * u + v * v) / (sigma * sigma);
      if (d2 > 6.25) return 0;
      const gx = ((dx + reach) / (2 * reach)) * 5;
      const gy = ((dy + reach) / (2 * reach)) * 5;
      const i = Math.min(4, Math.floor(gx));
      const j = Math.min(4, Math.floor(gy));
      const fx = gx - i;
      const fy = gy - j;
      const m =
        g[j * 6 + i] * (1 - fx) * (1 - fy) +
        g[j * 6 + i + 1] * fx * (1 - fy) +
        g[(j + 1) * 6 + i] * (1 - fx) * fy +
        g[(j + 1) * 6 + i + 1] * fx * fy;
      return Math.exp(-d2 / 2) * m;
    });
    l.masks.push(canvas.toMask('mul', amp));
  }
};

/**
 * Edge ink flow: ink that ran over the coating border into the bare margin: an irregular overflow band of thinner
 * ink hugging the border, a few fingers running further out, and a thick ridge just inside the border.
 */
const edgeInkFlow: Renderer = (l, s, r) => {
  const k = l.k;
  const both = s > 0.7 && r.chance(0.4);
  const first = r.chance(0.5);
  for (const left of both ? [true, false] : [first]) {
    const ylen = Math.min(l.cy1 - l.cy0, (40 + 500 * s) * k * r.range(0.7, 1.3));
    const ya = r.range(l.cy0, l.cy1 - ylen);
    const border = left ? l.xl : l.xr;
    const out = left ? -1 : 1; // direction out of the coating
    const reach = (5 + 45 * s) * k * r.range(0.8, 1.2);
    const amp = (0.35 + 0.45 * s) * r.range(0.85, 1.1);
    const ridge = Math.max(1, (3 + 10 * s) * k);
    const ridgeAmp = 0.15 + 0.5 * s;
    const wander = smoothNoise1d(r, Math.ceil(ylen) + 2, r.range(40, 100) * k);
    const fingers = Array.from({ length: 1 + Math.round(s * 5 * r.next()) }, () => ({
      y: ya + r.range(0.1, 0.9) * ylen,
      half: Math.max(0.8, r.range(2, 6) * k),
      len: reach * r.range(1.3, 2.2),
    }));
    const bx = border[clamp(Math.floor(ya + ylen / 2), 0, l.H - 1)];
    const far = reach * 2.3 + 4;
    const canvas = new MaskCanvas(
      left ? bx - far : bx - ridge - 30 * k - 4,
      ya - 2,
      left ? bx + ridge + 30 * k + 4 : bx + far,
      ya + ylen + 2,
    );
    const fade = Math.max(1, ylen * 0.12);
    canvas.map((x, y) => {
      if (y < ya || y > ya + ylen) return 0;
      const yi = clamp(Math.floor(y), 0, l.H - 1);
      const d = (x - border[yi]) * out; // > 0 outside the coating
      const ends = Math.min(1, (y - ya) / fade, (ya + ylen - y) / fade);
      if (d <= 0) return d > -ridge ? ridgeAmp * (1 + d / ridge) * ends : 0;
      const e = reach * ends * clamp(0.6 + 0.3 * wander[Math.floor(y - ya)], 0.15, 1.2);
      let v = d < e ? amp * (1 - 0.4 * (d / e)) : 0;
      for (const f of fingers) {
        const dy = Math.abs(y - f.y) / f.half;
        if (dy < 1 && d < f.len * ends)
          v = Math.max(v, amp * 0.8 * (1 - dy * dy) * (1 - d / (f.len * ends + 1)));
      }
      return v;
    });
    l.masks.push(canvas.toMask('add'));
  }
};

/** Bubbles: small round spots of thin coating with a denser rim, often in clusters. */
const bubbles: Renderer = (l, s, r) => {
  const k = l.k;
  const n = 1 + Math.round(s * 14 * r.range(0.7, 1.3));
  const clustered = r.chance(0.75);
  const spread = (30 + 120 * s) * k;
  const centre = pointInCoating(l, r, spread);
  const items = Array.from({ length: n }, () => {
    const p = clustered
      ? {
          x: clamp(centre.x + r.normal() * spread * 0.5, l.cx0, l.cx1),
          y: clamp(centre.y + r.normal() * spread * 0.5, l.cy0, l.cy1),
        }
      : pointInCoating(l, r, 10 * k);
    return { ...p, r: (3 + 16 * s) * k * r.range(0.6, 1.4) };
  });
  const depth = (0.3 + 0.5 * s) * r.range(0.8, 1.1);
  const rimAmp = 0.15 + 0.5 * s;
  const canvas = MaskCanvas.around(
    items.map((b) => ({ ...b, r: b.r * 1.6 })),
    2,
  );
  for (const b of items) {
    const rad = Math.max(0.7, b.r);
    const rimW = Math.max(1.2 * k, 0.22 * rad, 0.5);
    const scale = b.r < 0.7 ? (b.r / 0.7) ** 2 : 1;
    const reach = rad + 3 * rimW;
    const ya = Math.floor(b.y - reach);
    const xa = Math.floor(b.x - reach);
    for (let y = ya; y <= b.y + reach; y++) {
      for (let x = xa; x <= b.x + reach; x++) {
        const i = x - canvas.x0;
        const j = y - canvas.y0;
        if (i < 0 || j < 0 || i >= canvas.w || j >= canvas.h) continue;
        const d = Math.hypot(x + 0.5 - b.x, y + 0.5 - b.y);
        const inside = d < rad ? -depth * Math.sqrt(1 - (d / rad) ** 2) : 0;
        const rim = rimAmp * Math.exp(-(((d - rad) / rimW) ** 2));
        canvas.data[j * canvas.w + i] += scale * (inside + rim);
      }
    }
  }
  l.masks.push(canvas.toMask('add'));
};

/** Missing ink: an irregular region where the coating is thin or absent (close to bare substrate at worst). */
const missingInk: Renderer = (l, s, r) => {
  const k = l.k;
  const n = 1 + (s > 0.7 && r.chance(0.4) ? 1 : 0);
  for (let q = 0; q < n; q++) {
    const R = Math.max(1, (12 + 170 * s) * k * r.range(0.7, 1.3));
    const aspect = r.range(1, 2);
    const angle = r.range(0, Math.PI);
    const c = pointInCoating(l, r, R);
    // Irregular outline: a few weak low harmonics plus rougher high ones (a pure low-harmonic outline looks like
    // a flower).
    const harmonics = [2, 3, 5, 7, 11, 13].map((h) => ({
      h,
      a: r.range(0, h < 5 ? 0.08 : 0.035),
      p: r.range(0, 6.28),
    }));
    const soft = Math.max(0.7, (3 + 6 * r.next()) * k);
    const depth = Math.min(0.97, (0.45 + 0.5 * s) * r.range(0.9, 1.05));
    const ca = Math.cos(angle);
    const sa = Math.sin(angle);
    const reach = R * aspect * 1.6 + 2 * soft;
    const canvas = new MaskCanvas(c.x - reach, c.y - reach, c.x + reach, c.y + reach);
    canvas.map((x, y) => {
      const dx = x - c.x;
      const dy = y - c.y;
      const u = (dx * ca + dy * sa) / aspect;
      const v = -dx * sa + dy * ca;
      const d = Math.hypot(u, v);
      const th = Math.atan2(v, u);
      let rr = R;
      for (const h of harmonics) rr += R * h.a * Math.sin(h.h * th + h.p);
      const t = (rr - d) / soft;
      return t >= 1 ? 1 : t <= -1 ? 0 : (t + 1) / 2;
    });
    l.masks.push(canvas.toMask('mul', -depth));
  }
};

/** Agglomerate: dense bright clumps of catalyst, a cluster of small peaked blobs. */
const agglomerate: Renderer = (l, s, r) => {
  const k = l.k;
  const Rc = (8 + 60 * s) * k;
  const centre = pointInCoating(l, r, Rc + 10 * k);
  const n = 1 + Math.round(s * 8 * r.range(0.7, 1.3));
  const clumps = Array.from({ length: n }, () => ({
    x: centre.x + r.normal() * Rc * 0.5,
    y: centre.y + r.normal() * Rc * 0.5,
    r: (2 + 9 * s) * k * r.range(0.5, 1.5),
    a: (0.6 + 6 * s) * r.range(0.5, 1),
  }));
  const canvas = MaskCanvas.around(clumps, 2);
  for (const c of clumps) canvas.disc(c.x, c.y, c.r, c.a, 'gauss', 'add');
  l.masks.push(canvas.toMask('add'));
};

/** Ink fluctuations: banding across the coating direction from an uneven feed (a few superposed periods). */
const inkFluctuations: Renderer = (l, s, r) => {
  const k = l.k;
  const amp = (0.03 + 0.3 * s) * r.range(0.85, 1.15);
  const coatH = l.cy1 - l.cy0;
  const extent = (0.4 + 0.6 * s) * coatH;
  const ya = r.range(l.cy0, l.cy1 - extent);
  const comps = Array.from({ length: r.int(2, 3) }, () => ({
    period: r.range(30, 220) * k,
    w: r.range(0.4, 1),
    p: r.range(0, 6.28),
  }));
  const norm = comps.reduce((a, c) => a + c.w, 0);
  const edge = 0.15 * extent;
  for (let y = Math.max(0, Math.floor(ya)); y < Math.min(l.H, ya + extent); y++) {
    const t = Math.min(1, (y - ya) / edge, (ya + extent - y) / edge);
    const env = Math.sin((Math.PI / 2) * Math.max(0, t)) ** 2;
    let w = 0;
    for (const c of comps) w += c.w * Math.sin((2 * Math.PI * y) / c.period + c.p);
    l.band[y] += (amp * env * w) / norm;
  }
};

/** Ink entry/exit: where the coater starts or stops: ragged start line, heavy bead, drips, a starved zone after. */
const inkEntryExit: Renderer = (l, s, r) => {
  const k = l.k;
  const ends = s > 0.7 && r.chance(0.4) ? ['top', 'bottom'] : [r.chance(0.5) ? 'top' : 'bottom'];
  for (const end of ends) {
    const top = end === 'top';
    const line = top ? l.ys : l.ye;
    const dir = top ? 1 : -1; // into the coating
    const ragged = (2 + 40 * s) * k;
    const noise = smoothNoise1d(r, l.W, r.range(30, 90) * k);
    for (let x = 0; x < l.W; x++) line[x] += dir * ragged * Math.max(0, 0.5 + 0.4 * noise[x]);
    const bead = Math.max(1, (10 + 70 * s) * k);
    const beadAmp = 0.2 + 1.2 * s;
    const starved = (20 + 100 * s) * k;
    const starvedAmp = 0.1 + 0.3 * s;
    const drips = Array.from({ length: Math.round(s * 12 * r.range(0.6, 1.4)) }, () => ({
      x: r.range(l.cx0, l.cx1),
      len: (20 + 200 * s) * k * r.range(0.4, 1),
      half: Math.max(0.7, ((2 + 4 * s) * k) / 2),
      a: (0.2 + 0.5 * s) * (r.chance(0.7) ? 1 : -1),
    }));
    const reach = ragged + Math.max(bead * 3, starved + bead, ...drips.map((d) => d.len)) + 2;
    const base = top ? l.cy0 : l.cy1;
    const canvas = top
      ? new MaskCanvas(0, base - 2, l.W, base + reach)
      : new MaskCanvas(0, base - reach, l.W, base + 2);
    canvas.map((x, y) => {
      const xi = clamp(Math.floor(x), 0, l.W - 1);
      const d = (y - line[xi]) * dir; // depth into the coating from the start line
      if (d < 0) return 0;
      let v = beadAmp * Math.exp(-d / (bead / 2.5));
      if (d > bead && d < bead + starved) v -= starvedAmp * Math.sin((Math.PI * (d - bead)) / starved);
      for (const dr of drips) {
        const dx = Math.abs(x - dr.x) / dr.half;
        if (dx < 1 && d < dr.len) v += dr.a * (1 - dx * dx) * (1 - d / dr.len);
      }
      return v;
    });
    l.masks.push(canvas.toMask('add'));
  }
};

export const RENDERERS: Record<AnomalyType, Renderer> = {
  scratches,
  lines,
  edge_cuts: edgeCuts,
  edge_tensions: edgeTensions,
  smudges,
  edge_ink_flow: edgeInkFlow,
  bubbles,
  missing_ink: missingInk,
  agglomerate,
  ink_fluctuations: inkFluctuations,
  ink_entry_exit: inkEntryExit,
};
