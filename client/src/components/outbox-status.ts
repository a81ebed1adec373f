import { LitElement, css, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { outboxContext } from '../context.ts';
import type { OutboxEntry, OutboxState, VoteOutbox } from '../data/vote-outbox.ts';
import { base } from '../styles.ts';

const WORDS: Record<OutboxState, string> = {
  queued: 'sending…',
  sending: 'sending…',
  retrying: 'not saved yet, retrying',
  'waiting-login': 'waiting for sign-in',
  failed: 'not saved',
  sent: 'saved',
};

/** The last votes and where each one is: saved, sending, retrying (with why), or failed with a Retry button. */
@customElement('outbox-status')
export class OutboxStatus extends LitElement {
  static override styles = [
    base,
    css`
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 3px;
        font-size: 13px;
      }
      li {
        display: flex;
        gap: 6px;
        align-items: baseline;
      }
      .name {
        flex: 1;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .sent {
        color: var(--ok);
      }
      .retrying,
      .queued,
      .sending,
      .waiting-login {
        color: var(--warn);
      }
      .failed {
        color: var(--bad);
      }
      .why {
        font-size: 12px;
        color: var(--muted);
      }
      button {
        padding: 0 6px;
        font-size: 12px;
      }
    `,
  ];

  @consume({ context: outboxContext }) private outbox!: VoteOutbox;
  @state() private entries: readonly OutboxEntry[] = [];
  private timer = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    this.outbox.addEventListener('change', this.refresh);
    this.refresh();
    // Re-render once a second so "retrying in N s" counts down.
    this.timer = window.setInterval(() => this.requestUpdate(), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.outbox.removeEventListener('change', this.refresh);
    clearInterval(this.timer);
  }

  private refresh = (): void => {
    this.entries = [...this.outbox.all];
  };

  override render() {
    const recent = this.entries.slice(-6).reverse();
    if (!recent.length) return html`<p class="muted">No votes yet in this session.</p>`;
    return html`<ul aria-label="Votes" aria-live="polite">
      ${recent.map((e) => {
        const wait =
          e.state === 'retrying' && e.nextAttemptAt
            ? Math.max(0, Math.ceil((e.nextAttemptAt - Date.now()) / 1000))
            : 0;
        return html`<li data-state=${e.state}>
            <span class="name">${e.imageName}</span>
            <span class=${e.state}>${e.vote.verdict} · ${WORDS[e.state]}${wait ? ` in ${wait} s` : ''}</span>
            ${
              e.state === 'failed' || e.state === 'retrying'
                ? html`<button @click=${() => this.outbox.retry(e.id)}>Retry</button>`
                : null
            }
          </li>
          ${e.error && e.state !== 'sent' ? html`<li class="why">${e.error}</li>` : null}`;
      })}
    </ul>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'outbox-status': OutboxStatus;
  }
}
