import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';

@customElement('review-page')
export class Stub extends LitElement {
  override render() {
    return html`<p>review</p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'review-page': Stub;
  }
}
