import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { apiContext } from '../context.ts';
import type { ApiClient } from '../data/api-client.ts';
import { describeError } from '../data/api-client.ts';
import { login, type LoginResult } from '../data/auth.ts';
import { base } from '../styles.ts';

/** Sign-in form. Emits `signed-in` with the token and user; the app shell stores them. */
@customElement('login-page')
export class LoginPage extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: grid;
        place-items: center;
        min-height: 70vh;
      }
      form {
        display: grid;
        gap: 10px;
        width: 300px;
      }
      label {
        display: grid;
        gap: 4px;
        color: var(--muted);
        font-size: 13px;
      }
      .note {
        font-size: 13px;
        max-width: 300px;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  /** Why the user is here (session expired, votes waiting). */
  @property() notice = '';
  @state() private error = '';
  @state() private busy = false;

  override render() {
    return html`<div class="card">
      <form @submit=${this.submit}>
        <h1>Sign in to Platina</h1>
        ${this.notice ? html`<p class="note" role="status">${this.notice}</p>` : null}
        <label>Username <input name="username" autocomplete="username" required autofocus /></label>
        <label
          >Password <input name="password" type="password" autocomplete="current-password" required
        /></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Sign in</button>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : null}
      </form>
    </div>`;
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    this.busy = true;
    this.error = '';
    try {
      const result = await login(this.api, String(form.get('username')), String(form.get('password')));
      this.dispatchEvent(
        new CustomEvent<LoginResult>('signed-in', { detail: result, bubbles: true, composed: true }),
      );
    } catch (err) {
      this.error = describeError(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'login-page': LoginPage;
  }
  interface HTMLElementEventMap {
    'signed-in': CustomEvent<LoginResult>;
  }
}
