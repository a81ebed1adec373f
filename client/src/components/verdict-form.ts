import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { AnomalyCode, AnomalyType } from '../../../lib/anomaly-types.ts';
import type { Verdict } from '../../../lib/api-types/votes.ts';
import { base } from '../styles.ts';

export interface VerdictValue {
  verdict: Verdict | null;
  anomalies: AnomalyCode[];
}

/** The keys that toggle the anomaly types, in the paper's order: 1–9, 0, −. */
export const ANOMALY_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-'];

/**
 * Verdict (Normal / Abnormal) and the anomaly types as toggle buttons with accessible names exactly as
 * `GET /api/anomaly-types` gives them. Used by the expert's labeling page and the lead's resolution form.
 * Emits `verdict-change` with the new value; holds no state of its own.
 */
@customElement('verdict-form')
export class VerdictForm extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: grid;
        gap: 10px;
      }
      .verdicts {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 6px;
      }
      .verdicts button {
        padding: 8px;
        font-weight: 600;
      }
      .verdicts button.normal[aria-pressed='true'] {
        background: #e5f3ea;
        border-color: var(--ok);
        color: var(--ok);
      }
      .verdicts button.abnormal[aria-pressed='true'] {
        background: #f9e7e5;
        border-color: var(--bad);
        color: var(--bad);
      }
      .types {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 4px;
      }
      .types button {
        display: flex;
        justify-content: space-between;
        align-items: center;
        text-align: left;
        padding: 4px 8px;
        font-size: 13px;
      }
      .hint {
        margin-left: 6px;
      }
    `,
  ];

  @property({ attribute: false }) types: AnomalyType[] = [];
  @property({ attribute: false }) value: VerdictValue = { verdict: null, anomalies: [] };
  /** Show the keyboard shortcut beside each control (hidden from the accessible name). */
  @property({ type: Boolean }) keyHints = false;
  @property({ type: Boolean }) disabled = false;

  override render() {
    const v = this.value;
    const hint = (k: string) =>
      this.keyHints ? html`<kbd class="hint" aria-hidden="true">${k}</kbd>` : null;
    return html`
      <div class="verdicts" role="group" aria-label="Verdict">
        ${(['normal', 'abnormal'] as const).map(
          (verdict) =>
            html`<button
              class=${verdict}
              aria-pressed=${String(v.verdict === verdict)}
              ?disabled=${this.disabled}
              @click=${() => this.emit({ ...v, verdict })}
            >
              <span>${verdict === 'normal' ? 'Normal' : 'Abnormal'}</span
              >${hint(verdict === 'normal' ? 'N' : 'A')}
            </button>`,
        )}
      </div>
      <div class="types" role="group" aria-label="Anomaly types">
        ${this.types.map(
          (t, i) =>
            html`<button
              aria-pressed=${String(v.anomalies.includes(t.code))}
              ?disabled=${this.disabled}
              @click=${() => this.emit(toggleAnomaly(v, t.code, this.types))}
            >
              <span>${t.name}</span>${hint(ANOMALY_KEYS[i] ?? '')}
            </button>`,
        )}
      </div>
    `;
  }

  private emit(value: VerdictValue): void {
    this.dispatchEvent(
      new CustomEvent<VerdictValue>('verdict-change', { detail: value, bubbles: true, composed: true }),
    );
  }
}

/** Toggles one anomaly type, keeping the paper's order of types in the list. */
export function toggleAnomaly(v: VerdictValue, code: AnomalyCode, types: AnomalyType[]): VerdictValue {
  const set = new Set(v.anomalies);
  if (set.has(code)) set.delete(code);
  else set.add(code);
  return { ...v, anomalies: types.map((t) => t.code).filter((c) => set.has(c)) };
}

declare global {
  interface HTMLElementTagNameMap {
    'verdict-form': VerdictForm;
  }
  interface HTMLElementEventMap {
    'verdict-change': CustomEvent<VerdictValue>;
  }
}
