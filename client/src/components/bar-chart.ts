import { LitElement, css, svg, html, unsafeCSS } from 'lit';
import { customElement, property } from 'lit/decorators.js';

export interface BarGroup {
  label: string;
  /** One value per series (0..1), null where undefined (shown as a gap with a dash). */
  values: (number | null)[];
}

const COLOURS = ['#8da9c4', '#2a62a8', '#6aa57a', '#c58b3c'];

/**
 * Grouped bars in plain SVG (uPlot has no grouped-bar layout without a plugin): balanced accuracy per
 * bundle, one bar per paper method. Attributes only, no inline style (CSP).
 */
@customElement('bar-chart')
export class BarChart extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font:
        11px system-ui,
        sans-serif;
      color: #5d6670;
    }
    svg {
      width: 100%;
      height: auto;
    }
    .legend {
      display: flex;
      gap: 12px;
      margin-top: 4px;
    }
    .sw {
      display: inline-block;
      width: 10px;
      height: 10px;
      margin-right: 4px;
      vertical-align: -1px;
    }
    ${unsafeCSS(COLOURS.map((c, i) => `.c${i}{background:${c}}`).join(''))}
  `;

  @property({ attribute: false }) groups: BarGroup[] = [];
  @property({ attribute: false }) series: string[] = [];
  /** Horizontal reference line (e.g. 0.5 = chance). */
  @property({ type: Number }) reference = 0.5;

  override render() {
    const W = 760;
    const H = 220;
    const left = 34;
    const bottom = 24;
    const plotH = H - bottom - 8;
    const groupW = (W - left) / Math.max(1, this.groups.length);
    const barW = Math.max(2, (groupW * 0.8) / Math.max(1, this.series.length));
    const y = (v: number) => 8 + plotH * (1 - v);
    const ticks = [0, 0.25, 0.5, 0.75, 1];
    return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Balanced accuracy per bundle and method">
        ${ticks.map(
          (t) =>
            svg`<line x1=${left} x2=${W} y1=${y(t)} y2=${y(t)} stroke="#e3e6ea" />
              <text x=${left - 4} y=${y(t) + 3} text-anchor="end" fill="#5d6670">${Math.round(t * 100)}</text>`,
        )}
        <line
          x1=${left}
          x2=${W}
          y1=${y(this.reference)}
          y2=${y(this.reference)}
          stroke="#b3382f"
          stroke-dasharray="4 3"
        />
        ${this.groups.map((g, gi) => {
          const x0 = left + gi * groupW + groupW * 0.1;
          return svg`${g.values.map((v, si) =>
            v === null
              ? svg`<text x=${x0 + si * barW + barW / 2} y=${y(0) - 3} text-anchor="middle" fill="#9aa3ad">–</text>`
              : svg`<rect x=${x0 + si * barW} y=${y(v)} width=${barW - 1} height=${Math.max(0, y(0) - y(v))} fill=${COLOURS[si % 4]}><title>${g.label}, ${this.series[si]}: ${(v * 100).toFixed(2)} %</title></rect>`,
          )}
            <text x=${x0 + (barW * this.series.length) / 2} y=${H - 8} text-anchor="middle" fill="#5d6670">${g.label}</text>`;
        })}
      </svg>
      <div class="legend">
        ${this.series.map((s, i) => html`<span><span class="sw c${i}"></span>${s}</span>`)}
        <span>dashed: 50 % (chance)</span>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bar-chart': BarChart;
  }
}
