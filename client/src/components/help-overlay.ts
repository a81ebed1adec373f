import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { base } from '../styles.ts';

export interface KeyHelp {
  keys: string[];
  does: string;
}

/** The `?` overlay: a modal list of keys. Closes on Escape, `?` or the Close button (the page owns `open`). */
@customElement('help-overlay')
export class HelpOverlay extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        position: fixed;
        inset: 0;
        display: none;
        place-items: center;
        background: rgba(20, 24, 28, 0.45);
        z-index: 10;
      }
      :host([open]) {
        display: grid;
      }
      .card {
        width: min(560px, 92vw);
        max-height: 86vh;
        overflow: auto;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 6px 16px;
        margin: 10px 0 14px;
      }
      dt {
        text-align: right;
      }
      dd {
        margin: 0;
      }
    `,
  ];

  @property({ type: Boolean, reflect: true }) open = false;
  @property({ attribute: false }) items: KeyHelp[] = [];
  @property() heading = 'Keyboard';

  override render() {
    return html`<div class="card" role="dialog" aria-modal="true" aria-label=${this.heading}>
      <h1>${this.heading}</h1>
      <dl>
        ${this.items.map(
          (i) =>
            html`<dt>${i.keys.map((k, n) => html`${n ? ' ' : ''}<kbd>${k}</kbd>`)}</dt>
              <dd>${i.does}</dd>`,
        )}
      </dl>
      <button @click=${() => this.dispatchEvent(new Event('close', { bubbles: true, composed: true }))}>
        Close
      </button>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'help-overlay': HelpOverlay;
  }
}
