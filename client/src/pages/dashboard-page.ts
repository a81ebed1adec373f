import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';

@customElement('dashboard-page')
export class Stub extends LitElement {
  override render() {
    return html`<p>dashboard</p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dashboard-page': Stub;
  }
}
