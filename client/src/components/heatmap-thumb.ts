import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { apiContext } from '../context.ts';
import type { ApiClient } from '../data/api-client.ts';
import { getHeatmap } from '../data/images.ts';
import { heatmapRgba } from '../viewer/heatmap.ts';

/**
 * A small heatmap of one image (the review queue's items): the viewer's colours over a dark plate, so a lead sees
 * at a glance whether and where the evidence is strong. Renders nothing while the image has no heatmap (404) or
 * the caller may not see it (403).
 */
@customElement('heatmap-thumb')
export class HeatmapThumb extends LitElement {
  static override styles = css`
    :host {
      display: inline-block;
      line-height: 0;
    }
    canvas {
      width: 28px;
      height: auto;
      background: #1b1d21;
      border-radius: 3px;
      image-rendering: auto;
    }
  `;

  @consume({ context: apiContext }) private api!: ApiClient;
  @property() imageId = '';
  @query('canvas') private canvas?: HTMLCanvasElement;

  private heatmap = new Task(this, {
    task: async ([id], { signal }) => (id ? getHeatmap(this.api, id, signal) : null),
    args: () => [this.imageId] as const,
  });

  override render() {
    const h = this.heatmap.value;
    if (!h || h.imageId !== this.imageId) return nothing;
    return html`<canvas
      width=${h.width}
      height=${h.height}
      role="img"
      aria-label=${`heatmap, strongest ${h.max.toFixed(1)} noise units`}
      title=${`Heatmap: strongest evidence ${h.max.toFixed(1)} (noise units; above 5 is strong)`}
    ></canvas>`;
  }

  override updated(): void {
    const h = this.heatmap.value;
    if (!h || !this.canvas) return;
    this.canvas.getContext('2d')!.putImageData(new ImageData(heatmapRgba(h), h.width, h.height), 0, 0);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'heatmap-thumb': HeatmapThumb;
  }
}
