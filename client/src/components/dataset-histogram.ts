import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import type { DatasetStatsDto } from '../../../lib/api-types/images.ts';
import { robustRange } from '../data/histogram-range.ts';

/**
 * The dataset's 16-bit histogram (the paper's figure 5) with method 2's bounds Gmin and Gmax marked, drawn
 * with uPlot (bars, log-scaled counts). The axis spans the data (0.1–99.9 % of the pixels, robustRange), not
 * 0–65535 where the coating is one spike; a bound outside that span is drawn as an arrow at the edge with its
 * value. uPlot's stylesheet is adopted into the shadow root (CSP-friendly).
 */
@customElement('dataset-histogram')
export class DatasetHistogram extends LitElement {
  static override styles = [
    unsafeCSS(uplotCss),
    css`
      :host {
        display: block;
      }
      .legend {
        font-size: 12px;
        color: #5d6670;
      }
    `,
  ];

  @property({ attribute: false }) stats: DatasetStatsDto | null = null;
  @query('.plot') private plotEl!: HTMLElement;
  private plot: uPlot | null = null;
  private resize = new ResizeObserver(() =>
    this.plot?.setSize({ width: this.plotEl.clientWidth, height: 220 }),
  );

  override render() {
    const s = this.stats;
    return html`<div
        class="plot"
        role="img"
        aria-label=${s ? `Histogram of all pixels; method 2 bounds ${s.globalMin} and ${s.globalMax}` : 'Histogram'}
      ></div>
      ${
        s
          ? html`<p class="legend">
              Pixel values of every image (log count), from the 0.1th to the 99.9th percentile of all pixels.
              Orange: method 2's bounds Gmin = ${s.globalMin}, Gmax = ${s.globalMax} (0.01th / 99.99th
              percentiles, rounded to hundreds; paper section 2.3); an arrow at the edge marks a bound beyond
              the axis.
            </p>`
          : null
      }`;
  }

  override firstUpdated(): void {
    this.resize.observe(this.plotEl);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  override updated(changed: PropertyValues<this>): void {
    if (!changed.has('stats')) return;
    this.plot?.destroy();
    this.plot = null;
    const s = this.stats;
    // No bounds means no images yet: nothing to plot.
    if (!s || s.globalMin === null || s.globalMax === null || s.histogram.counts.length === 0) return;
    const edges = s.histogram.binEdges;
    const centres = s.histogram.counts.map((_, i) => (edges[i] + (edges[i + 1] ?? edges[i])) / 2);
    // Counts as-is; zero bins become null so the log scale skips them.
    const counts = s.histogram.counts.map((c) => (c > 0 ? c : null));
    const bounds = [s.globalMin, s.globalMax];
    const marks: uPlot.Plugin = {
      hooks: {
        draw: (u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = 'rgb(230, 140, 30)';
          ctx.lineWidth = 2 * devicePixelRatio;
          const [x0, x1] = [u.scales.x.min!, u.scales.x.max!];
          ctx.fillStyle = 'rgb(190, 105, 10)';
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          for (const [name, b] of [
            ['Gmin', bounds[0]],
            ['Gmax', bounds[1]],
          ] as const) {
            if (b >= x0 && b <= x1) {
              const x = u.valToPos(b, 'x', true);
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              continue;
            }
            // Beyond the axis: "Gmax 28000 →" inside the plot, against the edge it lies past.
            const right = b > x1;
            const label = right ? `${name} ${b} →` : `← ${name} ${b}`;
            const w = ctx.measureText(label).width;
            const x = right
              ? u.bbox.left + u.bbox.width - w - 4 * devicePixelRatio
              : u.bbox.left + 4 * devicePixelRatio;
            ctx.fillText(label, x, u.bbox.top + 14 * devicePixelRatio);
          }
          ctx.restore();
        },
      },
    };
    const [lo, hi] = robustRange(edges, s.histogram.counts) ?? [edges[0], edges[edges.length - 1]];
    // The axis' span, readable where the canvas is not (tests, assistive tools).
    this.plotEl.dataset.range = `${lo}–${hi}`;
    this.plot = new uPlot(
      {
        width: Math.max(300, this.plotEl.clientWidth),
        height: 220,
        legend: { show: false },
        cursor: { show: true, points: { show: false } },
        scales: { x: { time: false, range: [lo, hi] }, y: { distr: 3 } },
        axes: [{ label: 'raw 16-bit value' }, { label: 'pixels', size: 60 }],
        series: [
          {},
          {
            label: 'pixels',
            fill: 'rgba(42, 98, 168, 0.55)',
            stroke: 'rgb(42, 98, 168)',
            paths: uPlot.paths.bars!({ size: [1, Infinity], gap: 0 }),
            points: { show: false },
          },
        ],
        plugins: [marks],
      },
      [centres, counts as number[]],
      this.plotEl,
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dataset-histogram': DatasetHistogram;
  }
}
