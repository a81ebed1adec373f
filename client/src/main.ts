import { LitElement, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';

@customElement('platina-app')
export class PlatinaApp extends LitElement {
  @property() name = 'world';
  @state() private _n = 1;
  render() {
    return html`<p id="x">hello ${this.name} ${this._n}</p><button @click=${() => this._n++}>inc</button>`;
  }
}
