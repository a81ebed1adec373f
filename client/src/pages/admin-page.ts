import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';

@customElement('admin-page')
export class Stub extends LitElement {
  override render() {
    return html`<p>admin</p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'admin-page': Stub;
  }
}
