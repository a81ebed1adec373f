/**
 * A small hand-written SVG line chart (no dependency): axes with round ticks, one polyline per series with an
 * optional min–max band, a dashed horizontal reference line, and a legend. Written for the active-learning
 * plot in docs/active-learning.svg, which the README embeds.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  name: string;
  color: string;
  points: Point[];
  /** Spread around the line (e.g. min and max over seeds), drawn as a translucent band. */
  band?: { x: number; lo: number; hi: number }[];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference line (e.g. the accuracy random order reaches with all labels). */
  reference?: { y: number; label: string };
  /** Vertical markers (e.g. where a series first reaches the reference). */
  markers?: { x: number; color: string; label: string }[];
  yMin?: number;
  yMax?: number;
  /** Format of y tick labels. */
  yFormat?: (y: number) => string;
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (x: number) => (Math.round(x * 10) / 10).toString();

/** Round tick values from at or below `lo` to at or above `hi`: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  // Rounded to the step's decimals, so 0.1 · 7 prints as 0.7.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toFixed(decimals)));
  return ticks;
}

export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 820;
  const H = o.height ?? 480;
  const m = { left: 70, right: 24, top: o.subtitle ? 64 : 44, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xs = o.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = o.series.flatMap((s) => [
    ...s.points.map((p) => p.y),
    ...(s.band ?? []).flatMap((b) => [b.lo, b.hi]),
  ]);
  if (o.reference) ys.push(o.reference.y);
  const xTicks = niceTicks(0, Math.max(1, ...xs), 8);
  const xMax = xTicks.at(-1)!;
  const yTicksAuto = niceTicks(Math.min(...ys), Math.max(...ys), 6);
  const yMin = o.yMin ?? yTicksAuto[0];
  const yMax = o.yMax ?? yTicksAuto.at(-1)!;
  const X = (x: number) => m.left + (x / xMax) * pw;
  const Y = (y: number) => m.top + (1 - (y - yMin) / (yMax - yMin)) * ph;
  const yFmt = o.yFormat ?? ((y: number) => String(y));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="24" font-size="16" font-weight="600" fill="#111">${esc(o.title)}</text>`,
  );
  if (o.subtitle) out.push(`<text x="${m.left}" y="44" fill="#555">${esc(o.subtitle)}</text>`);

  // Grid and ticks.
  for (const t of xTicks) {
    out.push(
      `<line x1="${f(X(t))}" y1="${m.top}" x2="${f(X(t))}" y2="${m.top + ph}" stroke="#eee"/>`,
      `<text x="${f(X(t))}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${t}</text>`,
    );
  }
  for (const t of niceTicks(yMin, yMax, 6).filter((t) => t >= yMin - 1e-9 && t <= yMax + 1e-9)) {
    out.push(
      `<line x1="${m.left}" y1="${f(Y(t))}" x2="${m.left + pw}" y2="${f(Y(t))}" stroke="#eee"/>`,
      `<text x="${m.left - 8}" y="${f(Y(t) + 4)}" text-anchor="end" fill="#333">${esc(yFmt(t))}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`,
    `<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle" fill="#111">${esc(o.xLabel)}</text>`,
    `<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#111">${esc(o.yLabel)}</text>`,
  );

  // Bands under lines.
  for (const s of o.series) {
    if (!s.band || s.band.length === 0) continue;
    const upper = s.band.map((b) => `${f(X(b.x))},${f(Y(Math.min(yMax, b.hi)))}`);
    const lower = [...s.band].reverse().map((b) => `${f(X(b.x))},${f(Y(Math.max(yMin, b.lo)))}`);
    out.push(
      `<polygon points="${[...upper, ...lower].join(' ')}" fill="${s.color}" fill-opacity="0.12" stroke="none"/>`,
    );
  }
  if (o.reference) {
    const y = f(Y(o.reference.y));
    out.push(
      `<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#444" stroke-dasharray="6 4"/>`,
    );
  }
  for (const mk of o.markers ?? []) {
    out.push(
      `<line x1="${f(X(mk.x))}" y1="${m.top}" x2="${f(X(mk.x))}" y2="${m.top + ph}" stroke="${mk.color}" stroke-dasharray="2 3" stroke-opacity="0.8"/>`,
    );
  }
  for (const s of o.series) {
    const pts = s.points.map((p) => `${f(X(p.x))},${f(Y(Math.min(yMax, Math.max(yMin, p.y))))}`).join(' ');
    out.push(
      `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2.2" stroke-linejoin="round"` +
        `${s.dashed ? ' stroke-dasharray="7 4"' : ''}/>`,
    );
  }

  if (o.reference) {
    // The reference's label goes over the lines, on a white patch, so it stays readable.
    const w = o.reference.label.length * 6.6 + 10;
    out.push(
      `<rect x="${m.left + 6}" y="${f(Y(o.reference.y) - 20)}" width="${f(w)}" height="16" fill="#fff" fill-opacity="0.85"/>`,
      `<text x="${m.left + 11}" y="${f(Y(o.reference.y) - 7)}" fill="#444">${esc(o.reference.label)}</text>`,
    );
  }

  // Legend, bottom right inside the plot (curves rise to the upper left there less often).
  const rows = [...o.series.map((s) => ({ color: s.color, label: s.name, dashed: s.dashed }))];
  const markerRows = (o.markers ?? []).map((mk) => ({ color: mk.color, label: mk.label, dashed: true }));
  const all = [...rows, ...markerRows];
  const lw = Math.max(...all.map((r) => r.label.length)) * 7 + 48;
  const lh = all.length * 20 + 12;
  const lx = m.left + pw - lw - 10;
  const ly = m.top + ph - lh - 10;
  out.push(
    `<rect x="${lx}" y="${ly}" width="${lw}" height="${lh}" fill="#fff" fill-opacity="0.92" stroke="#ccc"/>`,
  );
  all.forEach((r, k) => {
    const y = ly + 18 + k * 20;
    const isMarker = k >= rows.length;
    out.push(
      `<line x1="${lx + 10}" y1="${y - 4}" x2="${lx + 34}" y2="${y - 4}" stroke="${r.color}" stroke-width="${isMarker ? 1.5 : 2.2}"` +
        `${r.dashed ? (isMarker ? ' stroke-dasharray="2 3"' : ' stroke-dasharray="7 4"') : ''}/>`,
      `<text x="${lx + 42}" y="${y}" fill="#111">${esc(r.label)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
