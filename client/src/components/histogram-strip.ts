import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { ChannelWindows } from '../viewer/window-level.ts';

export interface HistogramMark {
  value: number;
  label: string;
}

function sameList<T>(a: readonly T[], b: readonly T[] | undefined, same: (x: T, y: T) => boolean): boolean {
  return !!b && a.length === b.length && a.every((x, i) => same(x, b[i]));
}

const CHANNEL_COLOURS = ['rgba(255,120,120,0.22)', 'rgba(120,220,140,0.22)', 'rgba(120,160,255,0.22)'];

/**
 * A strip under the viewer: the image's histogram (log counts) over a value range, the current window as a
 * band with its bounds, and reference marks (method 2's global bounds). Drawn on a 2D canvas because it
 * redraws on every window/level frame, kept on the CPU (see `draw`).
 */
@customElement('histogram-strip')
export class HistogramStrip extends LitElement {
  static override styles = css`
    :host {
      display: block;
      position: relative;
      height: 56px;
      background: var(--surface-2, #23262b);
      border-top: 1px solid var(--line, #33373d);
    }
    canvas {
      display: block;
      width: 100%;
      height: 100%;
    }
  `;

  /** Counts of every raw value (index = value). */
  @property({ attribute: false }) counts: Uint32Array | null = null;
  // The viewer computes range and marks afresh on every render (a readout under the moving cursor is one):
  // compared by value, they redraw the strip only when they differ.
  @property({
    attribute: false,
    hasChanged: (a: number[], b?: number[]) => !sameList(a, b, (x, y) => x === y),
  })
  range: [number, number] = [0, 65535];
  @property({ attribute: false }) windows: ChannelWindows | null = null;
  @property({
    attribute: false,
    hasChanged: (a: HistogramMark[], b?: HistogramMark[]) =>
      !sameList(a, b, (x, y) => x.value === y.value && x.label === y.label),
  })
  marks: HistogramMark[] = [];

  @query('canvas') private canvas!: HTMLCanvasElement;
  private resize = new ResizeObserver(() => this.draw());

  override firstUpdated(): void {
    this.resize.observe(this.canvas);
  }
  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
  }
  override updated(_: PropertyValues): void {
    this.draw();
  }

  override render() {
    return html`<canvas role="img" aria-label=${this.describe()}></canvas>`;
  }

  private describe(): string {
    const w = this.windows?.[0];
    return w ? `Histogram with the window from ${w.lo} to ${w.hi}` : 'Histogram';
  }

  private draw(): void {
    const c = this.canvas;
    if (!c) return;
    const dpr = devicePixelRatio || 1;
    const W = Math.max(1, Math.round(c.clientWidth * dpr));
    const H = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== W || c.height !== H) ((c.width = W), (c.height = H));
    // A CPU canvas (Chromium's and Firefox's answer to this hint): its ~1000 one-pixel bars cost Skia's CPU
    // rasteriser well under a millisecond, but as GPU commands they queue in the GPU process ahead of the X-ray's
    // own frame on every window/level step — 20–30 ms a frame on software GL (bench/client.bench.ts).
    const g = c.getContext('2d', { willReadFrequently: true });
    if (!g) return;
    g.clearRect(0, 0, W, H);
    const [a, b] = this.range;
    const span = Math.max(1, b - a);
    const xOf = (v: number) => ((v - a) / span) * W;
    const counts = this.counts;
    if (counts) {
      const bins = new Float64Array(W);
      const lo = Math.max(0, Math.floor(a));
      const hi = Math.min(counts.length - 1, Math.ceil(b));
      for (let v = lo; v <= hi; v++) {
        if (counts[v] === 0) continue;
        const i = Math.min(W - 1, Math.max(0, Math.floor(xOf(v))));
        bins[i] += counts[v];
      }
      let max = 0;
      for (const n of bins) if (n > max) max = n;
      const top = Math.log1p(max) || 1;
      g.fillStyle = 'rgba(200, 206, 214, 0.75)';
      for (let i = 0; i < W; i++) {
        if (bins[i] === 0) continue;
        const h = (Math.log1p(bins[i]) / top) * (H - 4);
        g.fillRect(i, H - h, 1, h);
      }
    }
    const windows = this.windows;
    if (windows) {
      const grayscale = windows[0] === windows[1] && windows[1] === windows[2];
      (grayscale ? [windows[0]] : windows).forEach((w, k) => {
        g.fillStyle = grayscale ? 'rgba(90, 170, 255, 0.22)' : CHANNEL_COLOURS[k];
        const x0 = xOf(w.lo);
        const x1 = xOf(w.hi);
        g.fillRect(x0, 0, Math.max(1, x1 - x0), H);
        g.fillStyle = grayscale ? 'rgb(90, 170, 255)' : CHANNEL_COLOURS[k].replace('0.22', '0.9');
        g.fillRect(Math.round(x0), 0, Math.max(1, dpr), H);
        g.fillRect(Math.round(x1), 0, Math.max(1, dpr), H);
      });
    }
    g.font = `${10 * dpr}px system-ui, sans-serif`;
    for (const m of this.marks) {
      const x = Math.round(xOf(m.value));
      if (x < 0 || x > W) continue;
      g.fillStyle = 'rgb(255, 190, 80)';
      g.fillRect(x, 0, Math.max(1, dpr), H);
      // Right of its line, or left of it where the label would run past the edge ("Gmax 28000" in M2).
      const w = g.measureText(m.label).width;
      const right = x + 3 * dpr + w <= W;
      g.fillText(m.label, right ? x + 3 * dpr : Math.max(0, x - 3 * dpr - w), 11 * dpr);
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'histogram-strip': HistogramStrip;
  }
}
