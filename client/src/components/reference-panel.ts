import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { apiContext } from '../context.ts';
import { describeError, type ApiClient } from '../data/api-client.ts';
import { listImages } from '../data/images.ts';
import { markReference, setReferenceRate, unmarkReference } from '../data/references.ts';
import { nameOf } from '../data/users.ts';
import type { ReferencesDto } from '../../../lib/api-types/references.ts';
import { base } from '../styles.ts';

const pct = (x: number | null) => (x == null ? '—' : `${Math.round(x * 100)} %`);

/**
 * The lead's reference images (ground truth mixed blind into each expert's queue): the rate, marking resolved
 * images and unmarking references, and each expert's accuracy on them per day — drift shows before it costs
 * labels. Emits `references-changed` after a change so the owner reloads `data`.
 */
@customElement('reference-panel')
export class ReferencePanel extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: grid;
        gap: 8px;
      }
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        align-items: center;
      }
      input[type='number'] {
        width: 5em;
      }
      select {
        max-width: 260px;
      }
      .days {
        display: flex;
        flex-wrap: wrap;
        gap: 2px 10px;
        font-size: 12px;
      }
      .low {
        color: var(--bad);
        font-weight: 600;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @property({ attribute: false }) data: ReferencesDto | null = null;
  @state() private message = '';

  /** Resolved, included images that could become references (the first 200). */
  private candidates = new Task(this, {
    task: async ([refs], { signal }) => {
      const page = await listImages(this.api, { status: 'resolved', excluded: false, limit: 200 }, signal);
      const taken = new Set(refs?.references.map((r) => r.image.id));
      return page.items.filter((i) => !taken.has(i.id));
    },
    args: () => [this.data] as const,
  });

  override render() {
    const d = this.data;
    if (!d) return nothing;
    return html`
      <form @submit=${this.saveRate}>
        <label
          >References in each expert’s queue
          <input
            name="rate"
            type="number"
            min="0"
            max="50"
            step="1"
            .value=${String(Math.round(d.rate * 100))}
          />
          %</label
        >
        <button>Save</button>
      </form>
      ${
        this.candidates.value?.length
          ? html`<form @submit=${this.mark}>
              <label
                >Resolved image
                <select name="image" aria-label="Resolved image to mark as a reference">
                  ${this.candidates.value.map((i) => html`<option .value=${i.id}>${i.name} (${i.bundle})</option>`)}
                </select></label
              >
              <button>Mark as reference</button>
            </form>`
          : html`<p class="muted">No resolved image left to mark.</p>`
      }
      <p class="muted" role="status">${this.message}</p>
      ${
        d.references.length
          ? html`<table data-testid="references">
              <thead>
                <tr>
                  <th>Reference</th>
                  <th>Answer</th>
                  <th class="n">Right / answered</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${d.references.map(
                  (r) =>
                    html`<tr>
                      <td>${r.image.name} <span class="muted">${r.image.bundle}</span></td>
                      <td>${r.verdict}</td>
                      <td class="n">${r.correct} / ${r.answers}</td>
                      <td><button @click=${() => this.unmark(r.image.id)}>Unmark</button></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">No reference images yet: mark resolved images you are sure of.</p>`
      }
      <h3>Accuracy on references, per expert</h3>
      ${
        d.experts.length
          ? html`<table data-testid="reference-accuracy">
              <thead>
                <tr>
                  <th>Expert</th>
                  <th class="n">Answered</th>
                  <th class="n">Accuracy</th>
                  <th>Per day (right / answered)</th>
                </tr>
              </thead>
              <tbody>
                ${d.experts.map(
                  (e) =>
                    html`<tr>
                      <td>${nameOf(e.user)}</td>
                      <td class="n">${e.answered}</td>
                      <td class="n">${pct(e.accuracy)}</td>
                      <td>
                        <span class="days"
                          >${e.days.map(
                            (day) =>
                              html`<span class=${day.correct / day.answered < 0.8 ? 'low' : ''}
                                >${day.day.slice(5)}: ${day.correct}/${day.answered}</span
                              >`,
                          )}</span
                        >
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">No answers on references yet.</p>`
      }
    `;
  }

  private async act(change: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await change();
      this.message = done;
      this.dispatchEvent(new CustomEvent('references-changed', { bubbles: true, composed: true }));
    } catch (err) {
      this.message = describeError(err);
    }
  }

  private saveRate = (e: SubmitEvent): void => {
    e.preventDefault();
    const percent = Number(new FormData(e.target as HTMLFormElement).get('rate'));
    void this.act(
      () => setReferenceRate(this.api, percent / 100),
      `References now take ${percent} % of each queue.`,
    );
  };

  private mark = (e: SubmitEvent): void => {
    e.preventDefault();
    const id = String(new FormData(e.target as HTMLFormElement).get('image') ?? '');
    if (id) void this.act(() => markReference(this.api, id), 'Marked as a reference.');
  };

  private unmark(id: string): void {
    void this.act(() => unmarkReference(this.api, id), 'No longer a reference; its answers stay.');
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'reference-panel': ReferencePanel;
  }
  interface HTMLElementEventMap {
    'references-changed': CustomEvent<void>;
  }
}
