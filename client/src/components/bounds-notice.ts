import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { DatasetStatsDto } from '../../../lib/api-types/images.ts';
import { base } from '../styles.ts';

/**
 * Says when the method-2 bounds in force are not those the active model was trained under (issue 15): its inputs
 * were stretched differently, so its predictions and hints lag until it is retrained. Nothing otherwise.
 */
@customElement('bounds-notice')
export class BoundsNotice extends LitElement {
  static override styles = [
    base,
    css`
      p {
        margin: 0;
        padding: 8px 12px;
        border: 1px solid var(--warn);
        border-radius: 6px;
        color: var(--warn);
        background: #fdf6ec;
      }
    `,
  ];

  @property({ attribute: false }) stats: DatasetStatsDto | null = null;

  override render() {
    const s = this.stats;
    const m = s?.activeModel;
    if (!s || !m?.boundsMoved) return nothing;
    return html`<p role="status" data-testid="bounds-moved">
      The active model (version ${m.version}, method ${m.method}) was trained under method-2 bounds
      ${m.trainedMin}–${m.trainedMax}; the bounds in force are now
      ${s.globalMin}–${s.globalMax}${s.pinned ? ' (pinned)' : ''}. Its predictions were made on differently
      stretched images until it is retrained.
    </p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bounds-notice': BoundsNotice;
  }
}
