import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { apiContext } from '../context.ts';
import type { ApiClient } from '../data/api-client.ts';
import { upcomingQueue } from '../data/queue.ts';
import { backboneCaveat, listModels } from '../data/models.ts';
import type { ModelDto } from '../../../lib/api-types/models.ts';
import { base } from '../styles.ts';
import type { UpcomingSource } from '../../../lib/api-types/queue.ts';
import './heatmap-thumb.ts';

const SOURCE: Record<UpcomingSource, string> = {
  model: 'model priority',
  started: 'started',
  unusualness: 'unusual (no labels needed)',
  fresh: 'fresh',
};

/**
 * The lead's view of the work ahead: the next images of the queue, in the order experts get them, each with the
 * reason it stands there — before the first model, unusualness from the evidence alone; afterwards the model's
 * priority. Leads and admins only (the API refuses experts: model reasons are hints the blind rule keeps from them),
 * so the dashboard renders it for those roles alone.
 */
@customElement('upcoming-queue')
export class UpcomingQueueCard extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      td {
        vertical-align: middle;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @property({ type: Number }) limit = 10;

  private upcoming = new Task(this, {
    task: async ([limit], { signal }) => {
      const [queue, models] = await Promise.all([
        upcomingQueue(this.api, limit, signal),
        // The priorities are the model's numbers: say what backbone they rest on.
        listModels(this.api, signal).catch(() => [] as ModelDto[]),
      ]);
      return { ...queue, caveat: backboneCaveat(models.find((m) => m.version === queue.modelVersion)) };
    },
    args: () => [this.limit] as const,
  });

  /** Read again (after an upload, a training or a vote elsewhere). */
  refresh(): void {
    void this.upcoming.run();
  }

  override render() {
    return this.upcoming.render({
      pending: () => html`<p class="muted">Loading the queue…</p>`,
      error: () => html`<p class="muted">The queue could not be read.</p>`,
      complete: (q) => html`
        <p class="muted">
          ${
            q.modelVersion
              ? `Ordered by model version ${q.modelVersion}'s priorities${q.caveat ? ` (${q.caveat})` : ''}, then started and fresh images.`
              : 'No model yet: fresh images are ordered by how unusual their evidence is within their bundle (no labels needed).'
          }
        </p>
        ${
          q.items.length
            ? html`<table>
                <thead>
                  <tr>
                    <th>#</th>
                    <th>image</th>
                    <th>bundle</th>
                    <th>why</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${q.items.map(
                    (it, i) =>
                      html`<tr>
                        <td>${i + 1}</td>
                        <td>${it.image.name}</td>
                        <td>${it.image.bundle}</td>
                        <td><span class="muted">${SOURCE[it.source]}:</span> ${it.reason}</td>
                        <td><heatmap-thumb .imageId=${it.image.id}></heatmap-thumb></td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
            : html`<p class="muted">Nothing waits for a vote.</p>`
        }
      `,
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'upcoming-queue': UpcomingQueueCard;
  }
}
