import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { apiContext } from '../context.ts';
import { describeError, type ApiClient } from '../data/api-client.ts';
import { listAnomalyTypes } from '../data/anomaly-types.ts';
import {
  getConsensus,
  posteriorOf,
  resolveImage,
  reviewQueue,
  withdrawResolution,
} from '../data/consensus.ts';
import { getDatasetStats, getHeatmap, getImage, type ImageHeatmap } from '../data/images.ts';
import { listVotes, voteHistory } from '../data/votes.ts';
import { backboneCaveat, getPrediction, listModels } from '../data/models.ts';
import { markReference } from '../data/references.ts';
import { PRESELECT_ABOVE } from '../data/anomaly-hint.ts';
import { nameOf } from '../data/users.ts';
import type { AnomalyType } from '../../../lib/anomaly-types.ts';
import type { ConsensusDto, ReviewItem } from '../../../lib/api-types/consensus.ts';
import type { ImageDto } from '../../../lib/api-types/images.ts';
import type { ModelDto, PredictionDto } from '../../../lib/api-types/models.ts';
import type { VoteDto } from '../../../lib/api-types/votes.ts';
import { ImageLoader, type LoadedImage } from '../viewer/image-loader.ts';
import type { VerdictValue } from '../components/verdict-form.ts';
import type { XrayViewer } from '../components/xray-viewer.ts';
import '../components/xray-viewer.ts';
import '../components/verdict-form.ts';
import '../components/heatmap-thumb.ts';
import '../components/exclusion-control.ts';
import '../components/bounds-notice.ts';
import { base } from '../styles.ts';

interface Detail {
  image: ImageDto;
  votes: VoteDto[];
  history: VoteDto[];
  consensus: ConsensusDto | null;
  /** The review item's prediction (with priority and reason), else the image's own. */
  prediction: ReviewItem['prediction'] | ImageDto['prediction'];
  /** P(type) of each anomaly type from the active model (empty before one, or for a version without types). */
  types: PredictionDto['anomalies'];
  reasons: string[];
  posterior: number | null;
}

const pct = (p: number | null | undefined) => (p == null ? '—' : `${(p * 100).toFixed(1)} %`);

/** "4 Dec, 18:52": short enough for one line of the history table (the full time is its title). */
const shortTime = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });

const REASON_LABELS: Record<string, string> = {
  needs_lead: 'Tie',
  dawid_skene_disagrees: 'Dawid–Skene disagrees',
  model_contradicts: 'Model contradicts',
};

/** A review entry may carry the image nested or flattened; either way we read it the same. */
function imageOf(item: ReviewItem): ReviewItem['image'] {
  return item.image ?? (item as unknown as ImageDto);
}

/** The reasons of an entry in words: "Tie: the votes are tied". */
function reasonsOf(item: ReviewItem): string[] {
  return item.reasons.map((r) => `${REASON_LABELS[r.code] ?? r.code}: ${r.detail}`);
}

/**
 * The lead's page: the review queue with the reason for each image; for the selected image the viewer,
 * every vote side by side, the consensus, the Dawid–Skene posterior and the model's score, the history,
 * and the resolution form (verdict, anomalies, a required reason).
 */
@customElement('review-page')
export class ReviewPage extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        flex: 1;
        display: grid;
        grid-template-columns: 260px minmax(0, 1fr) 400px;
        gap: 12px;
        padding: 12px;
        height: calc(100vh - 47px);
        box-sizing: border-box;
        min-height: 0;
      }
      .queue {
        overflow: auto;
        padding: 8px;
      }
      .queue ul {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      .queue li button {
        width: 100%;
        text-align: left;
        border: 0;
        border-radius: 5px;
        padding: 6px 8px;
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto;
        align-items: start;
        gap: 8px;
      }
      .queue li .item {
        display: grid;
        gap: 2px;
      }
      .queue li button[aria-current='true'] {
        background: var(--accent-soft);
      }
      .reason {
        font-size: 12px;
        color: var(--warn);
      }
      aside {
        overflow: auto;
        display: flex;
        flex-direction: column;
        gap: 12px;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 3px 12px;
        margin: 0;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
      }
      .v-normal {
        color: var(--ok);
        font-weight: 600;
      }
      .v-abnormal {
        color: var(--bad);
        font-weight: 600;
      }
      textarea {
        width: 100%;
        box-sizing: border-box;
        min-height: 56px;
      }
      td {
        vertical-align: top;
        font-size: 13px;
      }
      .types {
        display: flex;
        flex-wrap: wrap;
        gap: 2px 10px;
        font-size: 13px;
      }
      .type {
        color: var(--muted);
      }
      .caveat {
        color: var(--warn);
        font-size: 12px;
      }
      .when {
        white-space: nowrap;
      }
      .type.likely {
        color: inherit;
        font-weight: 600;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @state() private selected: string | null = null;
  @state() private loaded: LoadedImage | null = null;
  @state() private form: VerdictValue & { reason: string } = { verdict: null, anomalies: [], reason: '' };
  @state() private message = '';
  @state() private busy = false;
  /** The selected image's heatmap (null: none yet); the viewer offers its overlay (H) when there is one. */
  @state() private heatmap: ImageHeatmap | null = null;
  @query('xray-viewer') private viewer?: XrayViewer;
  private loader: ImageLoader | null = null;

  private queue = new Task(this, {
    task: async (_a, { signal }) => reviewQueue(this.api, signal),
    args: () => [],
  });

  private setup = new Task(this, {
    task: async (_a, { signal }) => {
      const [types, dataset, models] = await Promise.all([
        listAnomalyTypes(this.api, signal),
        getDatasetStats(this.api, signal).catch(() => null),
        // The model's numbers below say what backbone they rest on.
        listModels(this.api, signal).catch(() => [] as ModelDto[]),
      ]);
      return { types, dataset, models };
    },
    args: () => [],
  });

  /** Loads the selected image's details; a newer selection aborts the older one (no stale answers). */
  private detail = new Task(this, {
    task: async ([id], { signal }): Promise<Detail | null> => {
      if (!id) return null;
      const item = this.queue.value?.find((i) => imageOf(i).id === id);
      if (!item) return null;
      const [image, votes, history, consensus, types] = await Promise.all([
        getImage(this.api, id, signal),
        listVotes(this.api, id, signal).catch(() => item.votes ?? []),
        voteHistory(this.api, id, signal).catch(() => [] as VoteDto[]),
        getConsensus(this.api, id, signal).catch(() => item.consensus ?? null),
        // 404 before a model or before this image is scored: no types to show.
        getPrediction(this.api, id, signal)
          .then((p) => p.anomalies)
          .catch(() => [] as PredictionDto['anomalies']),
      ]);
      return {
        image,
        votes,
        history,
        consensus,
        prediction: item.prediction ?? image.prediction ?? null,
        types,
        reasons: reasonsOf(item),
        posterior: item.dawidSkene?.pAbnormal ?? posteriorOf(consensus),
      };
    },
    args: () => [this.selected] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.loader = new ImageLoader(this.api, 3);
    addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('keydown', this.onKey);
    this.loader?.dispose();
    this.loader = null;
  }

  /** The viewer's keys (window/level, presets, fit, 1:1, H heatmap), except while typing the reason. */
  private onKey = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const target = e.composedPath()[0] as HTMLElement | undefined;
    if (target && (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT')) return;
    if (this.viewer?.handleKey(e)) e.preventDefault();
  };

  private get types(): AnomalyType[] {
    return this.setup.value?.types ?? [];
  }

  override render() {
    const ds = this.setup.value?.dataset;
    return html`
      <nav class="card queue" aria-label="Review queue">
        <h2>Review queue</h2>
        ${this.queue.render({
          pending: () => html`<p class="muted">Loading…</p>`,
          error: (e) => html`<p class="error">${describeError(e)}</p>`,
          complete: (items) =>
            items.length === 0
              ? html`<p class="muted">Nothing needs your decision.</p>`
              : html`<ul>
                  ${items.map((it) => {
                    const img = imageOf(it);
                    return html`<li>
                      <button
                        aria-current=${String(img.id === this.selected)}
                        @click=${() => this.select(img)}
                      >
                        <span class="item">
                          <span>${img.name}</span>
                          <span class="muted">${img.bundle}</span>
                          ${reasonsOf(it).map((r) => html`<span class="reason">${r}</span>`)}
                        </span>
                        <heatmap-thumb .imageId=${img.id}></heatmap-thumb>
                      </button>
                    </li>`;
                  })}
                </ul>`,
        })}
      </nav>
      <xray-viewer
        .loaded=${this.loaded}
        .datasetBounds=${ds ? { globalMin: ds.globalMin, globalMax: ds.globalMax } : null}
        .message=${this.selected ? '' : 'Choose an image from the review queue.'}
        .heatmap=${this.heatmap}
      ></xray-viewer>
      <aside>
        <bounds-notice .stats=${ds ?? null}></bounds-notice>
        ${this.detail.render({ complete: (d) => (d ? this.renderDetail(d) : nothing) })}
      </aside>
    `;
  }

  private renderDetail(d: Detail) {
    const c = d.consensus;
    const p = d.prediction;
    return html`
      <div class="card">
        <h2>${d.image.name}</h2>
        ${d.reasons.map((r) => html`<p class="reason">${r}</p>`)}
        <dl>
          <dt>Consensus</dt>
          <dd data-testid="consensus">
            ${c ? html`${c.status.replace('_', ' ')}${c.verdict ? html` · <span class="v-${c.verdict}">${c.verdict}</span>` : ''}${c.method ? ` (${c.method})` : ''}` : '—'}
          </dd>
          <dt>Votes</dt>
          <dd>${c ? `${c.counts.normal} normal · ${c.counts.abnormal} abnormal` : '—'}</dd>
          <dt>Dawid–Skene</dt>
          <dd>p(abnormal) ${pct(d.posterior)}</dd>
          <dt>Model</dt>
          <dd>
            ${p ? html`p(abnormal) ${pct(p.pAbnormal)} <span class="muted">v${p.modelVersion}</span>${this.renderCaveat(p.modelVersion)}` : '—'}
          </dd>
          <dt>Model types</dt>
          <dd data-testid="model-types">${this.renderTypes(d.types)}</dd>
          ${
            c?.reason
              ? html`<dt>Lead</dt>
                  <dd>${nameOf(c.resolvedBy)}: “${c.reason}”</dd>`
              : nothing
          }
        </dl>
        <exclusion-control
          .image=${d.image}
          @image-change=${() => {
            // Excluded images leave the review queue; the detail shows the image as it is now.
            void this.detail.run();
            void this.queue.run();
          }}
        ></exclusion-control>
      </div>
      <div class="card">
        <h3>Votes</h3>
        <table>
          <thead>
            <tr>
              <th>Expert</th>
              <th>Verdict</th>
              <th>Anomalies</th>
              <th>Comment</th>
            </tr>
          </thead>
          <tbody>
            ${d.votes.map(
              (v) =>
                html`<tr>
                  <td>${nameOf(v.user)}</td>
                  <td class="v-${v.verdict}">${v.verdict}</td>
                  <td>${v.anomalies.map((a) => this.nameOf(a)).join(', ') || '—'}</td>
                  <td>${v.comment ?? ''}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div class="card">
        <h3>Resolve</h3>
        <verdict-form
          .types=${this.types}
          .value=${this.form}
          @verdict-change=${(e: CustomEvent<VerdictValue>) => (this.form = { ...this.form, ...e.detail })}
        ></verdict-form>
        <p>
          <label for="reason">Reason (required)</label>
          <textarea
            id="reason"
            .value=${this.form.reason}
            @input=${(e: InputEvent) => (this.form = { ...this.form, reason: (e.target as HTMLTextAreaElement).value })}
          ></textarea>
        </p>
        <button class="primary" ?disabled=${this.busy} @click=${() => this.resolve(d.image)}>Resolve</button>
        ${
          c?.method === 'lead'
            ? html`<button ?disabled=${this.busy} @click=${() => this.withdraw(d.image)}>
                Return to the vote rule
              </button>`
            : nothing
        }
        ${
          c?.status === 'resolved'
            ? html`<button ?disabled=${this.busy} @click=${() => this.markAsReference(d.image)}>
                Use as a reference image
              </button>`
            : nothing
        }
        <p class="error" role="alert">${this.message}</p>
      </div>
      <div class="card">
        <h3>History</h3>
        ${
          d.history.length
            ? html`<table>
                <tbody>
                  ${d.history.map(
                    (v) =>
                      html`<tr>
                        <td class="muted when" title=${v.createdAt}>${shortTime(v.createdAt)}</td>
                        <td>${nameOf(v.user)}</td>
                        <td class="v-${v.verdict}">${v.verdict}</td>
                        <td>${v.anomalies.map((a) => this.nameOf(a)).join(', ')}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
            : html`<p class="muted">No history.</p>`
        }
      </div>
    `;
  }

  /** "untrained backbone" beside a model's numbers when that version rests on it. */
  private renderCaveat(version: string) {
    const caveat = backboneCaveat(this.setup.value?.models.find((m) => m.version === version));
    return caveat ? html` <span class="caveat" data-testid="model-backbone">${caveat}</span>` : nothing;
  }

  private markAsReference(image: Pick<ImageDto, 'id'>): Promise<void> {
    return this.act(async () => {
      await markReference(this.api, image.id);
      this.message = 'Marked as a reference image: it will be mixed blind into the experts’ queues.';
    });
  }

  /** The model's anomaly types, most likely first; those the expert form would pre-select (p > 0.5) stand out. */
  private renderTypes(types: PredictionDto['anomalies']) {
    if (types.length === 0) return '—';
    const ranked = [...types].sort((a, b) => b.p - a.p);
    return html`<span class="types">
      ${ranked.map(
        (t) =>
          html`<span class=${t.p > PRESELECT_ABOVE ? 'type likely' : 'type'}
            >${this.nameOf(t.code)} ${pct(t.p)}</span
          >`,
      )}
    </span>`;
  }

  private nameOf(code: string): string {
    return this.types.find((t) => t.code === code)?.name ?? code;
  }

  private async select(summary: ReviewItem['image']): Promise<void> {
    this.selected = summary.id;
    this.message = '';
    this.form = { verdict: null, anomalies: [], reason: '' };
    this.loaded = null;
    this.heatmap = null;
    const image = summary;
    void getHeatmap(this.api, summary.id)
      .catch(() => null)
      .then((h) => {
        if (this.selected === image.id) this.heatmap = h;
      });
    try {
      const loaded = await this.loader!.load(await getImage(this.api, summary.id));
      if (this.selected === image.id) this.loaded = loaded;
    } catch (err) {
      if (this.selected === image.id) this.message = describeError(err);
    }
  }

  /** A lead's change to an image: busy while it runs, then the queue and the image reloaded, or the error shown. */
  private async act(change: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    try {
      await change();
      this.queue.run();
      this.detail.run();
    } catch (err) {
      this.message = describeError(err);
    } finally {
      this.busy = false;
    }
  }

  private withdraw(image: Pick<ImageDto, 'id'>): Promise<void> {
    return this.act(() => withdrawResolution(this.api, image.id));
  }

  private async resolve(image: Pick<ImageDto, 'id'>): Promise<void> {
    const { verdict, anomalies, reason } = this.form;
    if (!verdict) {
      this.message = 'Choose Normal or Abnormal.';
      return;
    }
    if (!reason.trim()) {
      this.message = 'Give a reason: it is kept with the decision.';
      return;
    }
    await this.act(async () => {
      await resolveImage(this.api, image.id, { verdict, anomalies, reason: reason.trim() });
      this.message = '';
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'review-page': ReviewPage;
  }
}
