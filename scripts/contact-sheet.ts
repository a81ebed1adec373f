/**
 * Renders the contact sheet of the synthetic data: one panel per anomaly type (a severe example), plus a clean
 * normal electrode and a normal one with a minor finding (the paper's figure 2d), into one labelled PNG.
 *
 *   npm run contact-sheet -- [--seed N] [--out docs/contact-sheet.png] [--severity 0.85]
 *
 * Each panel shows the whole electrode and a zoom on the anomaly, through the paper's conversion method 2 (global
 * bounds Gmin = 1700, Gmax = 28000, which the generated data set reproduces — see lib/synth/render.test.ts) and,
 * below, method 3 (the image's own 0.01/99.99th percentiles). Method 2 is what the paper's best model saw; it
 * squeezes the coating into ~10 grey levels, so the method-3 row is there for human eyes. The white frame on the
 * method-3 thumbnail marks the zoomed region.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { localBounds, stretchBounds, type Conversion } from '../lib/imaging/conversions.ts';
import { convertAndResize } from '../lib/imaging/resize.ts';
import type { GrayImage } from '../lib/imaging/gray-image.ts';
import { encodePng } from '../lib/imaging/png.ts';
import { computeStats } from '../lib/imaging/stats.ts';
import { drawText, textWidth } from '../lib/synth/bitmap-font.ts';
import { DEFAULT_SEED } from '../lib/synth/generate.ts';
import { ANOMALY_TYPES, PAPER, SEVERE, planDataset, type ImageSpec } from '../lib/synth/plan.ts';
import { ElectrodeRenderer, type Box } from '../lib/synth/render.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    out: { type: 'string', default: 'docs/contact-sheet.png' },
    severity: { type: 'string', default: '0.85' },
  },
});
const seed = Number(values.seed);
const target = Number(values.severity);
const plan = planDataset({ seed, scale: 'full' });
const global = stretchBounds(PAPER.globalMin, PAPER.globalMax);

interface Example {
  title: string;
  image: ImageSpec;
  /** The anomaly type to zoom on (null: centre of the plate). */
  focus: string | null;
}

/** The image whose worst anomaly is `type`, preferring single-anomaly images without particles near `severity`. */
function exampleOf(type: string, severity: number, verdict: 'normal' | 'abnormal'): ImageSpec {
  const candidates = plan.images.filter(
    (i) => i.verdict === verdict && i.anomalies[0]?.type === type && !i.artifact,
  );
  const score = (i: ImageSpec) => Math.abs(i.maxSeverity - severity) + (i.anomalies.length > 1 ? 0.3 : 0);
  const best = candidates.sort((a, b) => score(a) - score(b) || a.index - b.index)[0];
  if (!best) throw new Error(`no ${verdict} example of ${type} for seed ${seed}`);
  return best;
}

const clean = plan.images.find((i) => i.anomalies.length === 0 && !i.artifact)!;
const minorType = plan.images.some((i) => i.verdict === 'normal' && i.anomalies[0]?.type === 'scratches')
  ? 'scratches'
  : plan.images.find((i) => i.verdict === 'normal' && i.anomalies.length > 0)!.anomalies[0].type;
const examples: Example[] = [
  { title: 'normal', image: clean, focus: null },
  {
    title: `normal, minor ${minorType.replace(/_/g, ' ')}`,
    image: exampleOf(minorType, 0.42, 'normal'),
    focus: minorType,
  },
  ...ANOMALY_TYPES.map((t) => ({
    title: t.replace(/_/g, ' '),
    image: exampleOf(t, target, 'abnormal'),
    focus: t,
  })),
];

// Layout.
const COLS = 7;
const PW = 220; // panel width
const GAP = 14;
const THUMB_W = 100;
const THUMB_H = 181; // ≈ the plates' aspect (1145 × 2072)
const ZOOM = PW;
const LABEL_H = 40;
const PANEL_H = LABEL_H + THUMB_H + 8 + ZOOM + 16 + ZOOM + 16;
const HEADER_H = 56;
const rows = Math.ceil(examples.length / COLS);
const W = GAP + COLS * (PW + GAP);
const H = HEADER_H + rows * (PANEL_H + GAP);
const BG = 28;
const sheet = new Uint8Array(W * H).fill(BG);

function blit(src: Uint8Array, sw: number, sh: number, x: number, y: number): void {
  for (let j = 0; j < sh; j++) sheet.set(src.subarray(j * sw, (j + 1) * sw), (y + j) * W + x);
}

function frame(x0: number, y0: number, w: number, h: number, value: number): void {
  for (let x = x0; x < x0 + w; x++) {
    sheet[y0 * W + x] = value;
    sheet[(y0 + h - 1) * W + x] = value;
  }
  for (let y = y0; y < y0 + h; y++) {
    sheet[y * W + x0] = value;
    sheet[y * W + x0 + w - 1] = value;
  }
}

function crop(image: GrayImage, b: Box): GrayImage {
  const w = b.x1 - b.x0;
  const h = b.y1 - b.y0;
  const data = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) {
    const at = (b.y0 + y) * image.width + b.x0;
    data.set((image.data as Uint16Array).subarray(at, at + w), y * w);
  }
  return { width: w, height: h, bitDepth: 16, data };
}

/** A square zoom window around the anomaly's largest part, at least 160 px and at most 640 px wide. */
function zoomWindow(r: ElectrodeRenderer, focus: string | null, im: ImageSpec): Box {
  const boxes = r.regions.filter((g) => g.type === focus).flatMap((g) => g.boxes);
  const area = (b: Box) => (b.x1 - b.x0) * (b.y1 - b.y0);
  const b = boxes.sort((p, q) => area(q) - area(p))[0] ?? {
    x0: im.width / 2,
    y0: im.height / 2,
    x1: im.width / 2,
    y1: im.height / 2,
  };
  const side = Math.round(Math.min(640, im.width, Math.max(160, 1.3 * Math.max(b.x1 - b.x0, b.y1 - b.y0))));
  const cx = Math.min(Math.max((b.x0 + b.x1) / 2, side / 2), im.width - side / 2);
  const cy = Math.min(Math.max((b.y0 + b.y1) / 2, side / 2), im.height - side / 2);
  const x0 = Math.round(cx - side / 2);
  const y0 = Math.round(cy - side / 2);
  return { x0, y0, x1: x0 + side, y1: y0 + side };
}

drawText(
  sheet,
  W,
  GAP,
  12,
  `Platina synthetic electrode X-rays · seed ${seed} · full scale (${plan.images.length} images)`,
  255,
  2,
);
drawText(
  sheet,
  W,
  GAP,
  36,
  `each panel: whole plate and zoom through method 2 (global bounds ${global.lo}-${global.hi}, top) and method 3 (local bounds, bottom); frame = zoom`,
  190,
  1,
);

examples.forEach((ex, n) => {
  const im = ex.image;
  const r = new ElectrodeRenderer(plan, im);
  const image: GrayImage = { width: im.width, height: im.height, bitDepth: 16, data: r.toArray() };
  const local = localBounds(computeStats(image));
  const m2: Conversion = { method: 2, global };
  const m3: Conversion = { method: 3, local };
  const px = GAP + (n % COLS) * (PW + GAP);
  const py = HEADER_H + Math.floor(n / COLS) * (PANEL_H + GAP);

  drawText(
    sheet,
    W,
    px,
    py,
    ex.title.length * 12 > PW ? ex.title : ex.title,
    255,
    textWidth(ex.title, 2) > PW ? 1 : 2,
  );
  const sev = im.anomalies.find((a) => a.type === ex.focus)?.severity;
  const sub =
    sev === undefined
      ? `${im.file.split('/')[1]} · no anomaly`
      : `severity ${sev.toFixed(2)} (${sev >= SEVERE ? 'severe' : 'minor'}) · ${im.verdict}`;
  drawText(sheet, W, px, py + 20, sub, 170, 1);
  if (im.anomalies.length > 1) {
    const others = im.anomalies
      .filter((a) => a.type !== ex.focus)
      .map((a) => `${a.type.replace(/_/g, ' ')} ${a.severity}`);
    drawText(sheet, W, px, py + 30, `also: ${others.join(', ')}`.slice(0, 36), 130, 1);
  }

  const ty = py + LABEL_H;
  const t2 = convertAndResize(image, m2, { width: THUMB_W, height: THUMB_H }).planes[0];
  const t3 = convertAndResize(image, m3, { width: THUMB_W, height: THUMB_H }).planes[0];
  blit(t2, THUMB_W, THUMB_H, px, ty);
  blit(t3, THUMB_W, THUMB_H, px + PW - THUMB_W, ty);
  const z = zoomWindow(r, ex.focus, im);
  const sx = THUMB_W / im.width;
  const sy = THUMB_H / im.height;
  frame(
    px + PW - THUMB_W + Math.floor(z.x0 * sx),
    ty + Math.floor(z.y0 * sy),
    Math.max(3, Math.round((z.x1 - z.x0) * sx)),
    Math.max(3, Math.round((z.y1 - z.y0) * sy)),
    255,
  );
  drawText(sheet, W, px + THUMB_W + 2, ty + 2, 'M2', 150, 1);
  drawText(sheet, W, px + PW - THUMB_W - 14, ty + THUMB_H - 9, 'M3', 150, 1);

  const zoomed = crop(image, z);
  const zy = ty + THUMB_H + 8;
  blit(convertAndResize(zoomed, m2, { width: ZOOM, height: ZOOM }).planes[0], ZOOM, ZOOM, px, zy);
  drawText(sheet, W, px, zy + ZOOM + 4, `method 2 zoom, ${z.x1 - z.x0} px wide`, 150, 1);
  blit(convertAndResize(zoomed, m3, { width: ZOOM, height: ZOOM }).planes[0], ZOOM, ZOOM, px, zy + ZOOM + 16);
  drawText(sheet, W, px, zy + 2 * ZOOM + 20, `method 3 zoom (${local.lo}-${local.hi})`, 150, 1);
  console.log(`${ex.title}: ${im.file} ${im.anomalies.map((a) => `${a.type}:${a.severity}`).join(' ')}`);
});

mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, encodePng({ width: W, height: H, planes: [sheet] }));
console.log(`wrote ${values.out} (${W}×${H})`);
