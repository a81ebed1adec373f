import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { apiContext } from '../context.ts';
import { describeError, type ApiClient } from '../data/api-client.ts';
import { pinBounds, unpinBounds } from '../data/images.ts';
import type { DatasetStatsDto } from '../../../lib/api-types/images.ts';
import './bounds-notice.ts';
import { base } from '../styles.ts';

/**
 * Method 2's bounds (paper 2.3) as a lead manages them (issue 15): those in force, what the included images give,
 * and a pin that keeps the bounds the lab trusts whatever is uploaded later. Fires `stats-change` with the new stats.
 */
@customElement('bounds-panel')
export class BoundsPanel extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 4px 12px;
        margin: 0 0 10px;
        font-variant-numeric: tabular-nums;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
      }
      .row {
        display: flex;
        gap: 6px;
        align-items: center;
        flex-wrap: wrap;
      }
      input {
        width: 7em;
      }
      .error {
        color: var(--bad);
      }
      bounds-notice {
        margin-top: 10px;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @property({ attribute: false }) stats: DatasetStatsDto | null = null;
  @state() private lo = '';
  @state() private hi = '';
  @state() private busy = false;
  @state() private error = '';

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('stats') && this.stats) {
      this.lo = String(this.stats.globalMin ?? '');
      this.hi = String(this.stats.globalMax ?? '');
    }
  }

  override render() {
    const s = this.stats;
    if (!s || s.bitDepth === null) return html`<p class="muted">No images yet: no bounds.</p>`;
    return html`
      <dl>
        <dt>In force</dt>
        <dd data-testid="bounds-in-force">
          Gmin ${s.globalMin} · Gmax ${s.globalMax} (${s.bitDepth}-bit)${s.pinned ? ' · pinned' : ''}
        </dd>
        <dt>From the images</dt>
        <dd data-testid="bounds-computed">
          ${s.computedMin === null ? '—' : `Gmin ${s.computedMin} · Gmax ${s.computedMax}`}
          <span class="muted"
            >(${s.images} included
            image${s.images === 1 ? '' : 's'}${s.excludedImages ? `, ${s.excludedImages} excluded` : ''})</span
          >
        </dd>
      </dl>
      <div class="row">
        <label
          >Gmin
          <input
            aria-label="Gmin"
            inputmode="numeric"
            .value=${this.lo}
            @input=${(e: InputEvent) => (this.lo = (e.target as HTMLInputElement).value)}
        /></label>
        <label
          >Gmax
          <input
            aria-label="Gmax"
            inputmode="numeric"
            .value=${this.hi}
            @input=${(e: InputEvent) => (this.hi = (e.target as HTMLInputElement).value)}
        /></label>
        <button ?disabled=${this.busy} @click=${this.pin}>
          ${s.pinned ? 'Pin these instead' : 'Pin bounds'}
        </button>
        ${
          s.pinned
            ? html`<button ?disabled=${this.busy} @click=${this.unpin}>Unpin (follow the images)</button>`
            : nothing
        }
      </div>
      <p class="error" role="alert">${this.error}</p>
      <bounds-notice .stats=${s}></bounds-notice>
    `;
  }

  private pin = () => {
    const s = this.stats!;
    return this.act(() => pinBounds(this.api, s.bitDepth!, Number(this.lo), Number(this.hi)));
  };
  private unpin = () => this.act(() => unpinBounds(this.api, this.stats!.bitDepth!));

  private async act(call: () => Promise<DatasetStatsDto>): Promise<void> {
    this.busy = true;
    this.error = '';
    try {
      const stats = await call();
      this.dispatchEvent(new CustomEvent('stats-change', { detail: stats, bubbles: true, composed: true }));
    } catch (err) {
      this.error = describeError(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bounds-panel': BoundsPanel;
  }
  interface HTMLElementEventMap {
    'stats-change': CustomEvent<DatasetStatsDto>;
  }
}
