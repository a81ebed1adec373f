import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { apiContext, outboxContext, sessionContext, type Session } from '../context.ts';
import { describeError, type ApiClient } from '../data/api-client.ts';
import { listAnomalyTypes } from '../data/anomaly-types.ts';
import { getDatasetStats, getHeatmap, type ImageHeatmap } from '../data/images.ts';
import { nextInQueue, queueStats, type QueueStats } from '../data/queue.ts';
import { getSettings, modelHintEnabled } from '../data/settings.ts';
import { backboneCaveat, getPrediction, listModels } from '../data/models.ts';
import { typeHint, type TypeHint } from '../data/anomaly-hint.ts';
import type { AnomalyType } from '../../../lib/anomaly-types.ts';
import type { ImageDto } from '../../../lib/api-types/images.ts';
import type { ModelDto, PredictionDto } from '../../../lib/api-types/models.ts';
import type { VoteInput } from '../../../lib/api-types/votes.ts';
import type { VoteOutbox } from '../data/vote-outbox.ts';
import { afterNextFrame } from '../app/after-frame.ts';
import { ImageLoader, type LoadedImage } from '../viewer/image-loader.ts';
import { ANOMALY_KEYS, toggleAnomaly, type VerdictValue } from '../components/verdict-form.ts';
import type { XrayViewer } from '../components/xray-viewer.ts';
import type { KeyHelp } from '../components/help-overlay.ts';
import '../components/xray-viewer.ts';
import '../components/verdict-form.ts';
import '../components/help-overlay.ts';
import '../components/outbox-status.ts';
import { base } from '../styles.ts';

/** How many images ahead are fetched, decoded and uploaded. `?prefetch=0` turns it off (benchmarks). */
const PREFETCH_DEPTH = 2;

interface Slot {
  image: ImageDto;
  loaded: LoadedImage | null;
  error: string;
}

interface Form extends VerdictValue {
  comment: string;
}

const emptyForm = (): Form => ({ verdict: null, anomalies: [], comment: '' });
const untouched = (f: Form) => f.verdict === null && f.anomalies.length === 0 && f.comment === '';

/** The model's type hint of one image, with the probabilities to show beside the pre-selected types. */
interface ImageTypeHint extends TypeHint {
  anomalies: PredictionDto['anomalies'];
}

export const LABEL_KEYS: KeyHelp[] = [
  { keys: ['N'], does: 'Normal' },
  { keys: ['A'], does: 'Abnormal' },
  { keys: ['1', '…', '9', '0', '-'], does: 'Toggle the 11 anomaly types, in the paper’s order' },
  { keys: ['Enter'], does: 'Submit and load the next image' },
  { keys: ['Backspace'], does: 'Back to the previous image to change that vote' },
  { keys: ['R'], does: 'Reset the view (fit, auto window)' },
  { keys: ['↑', '↓'], does: 'Level (brighter / darker window)' },
  { keys: ['←', '→'], does: 'Window narrower / wider' },
  { keys: ['W'], does: 'Auto window from the histogram' },
  { keys: ['M'], does: 'Next paper method preset (1 → 2 → 3 → 4)' },
  { keys: ['I'], does: 'Invert' },
  { keys: ['C'], does: 'False colour' },
  { keys: ['F'], does: 'Fit to screen' },
  { keys: ['O'], does: 'One image pixel per screen pixel' },
  {
    keys: ['H'],
    does: 'Heatmap overlay: where the evidence is strongest (when you may see the model’s output; opacity slider beside it)',
  },
  { keys: ['Right-drag'], does: 'Window/level with the mouse; left-drag pans, wheel zooms' },
  { keys: ['Ctrl', 'Enter'], does: 'Submit while typing a comment' },
  { keys: ['?'], does: 'Show or hide this help' },
];

/**
 * The expert's page: one image at a time from the queue, blind (no other votes, no consensus, no model
 * score unless the installation enables the hint, in which case the vote records that it was shown).
 * Votes go through the outbox, so Enter moves on immediately and a lost network never loses a vote.
 */
@customElement('label-page')
export class LabelPage extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        flex: 1;
        display: grid;
        grid-template-columns: minmax(0, 1fr) 330px;
        gap: 12px;
        padding: 12px;
        min-height: 0;
        height: calc(100vh - 47px);
        box-sizing: border-box;
      }
      xray-viewer {
        min-height: 0;
      }
      aside {
        display: flex;
        flex-direction: column;
        gap: 12px;
        overflow: auto;
      }
      .meta {
        display: flex;
        justify-content: space-between;
        gap: 8px;
        font-size: 13px;
      }
      textarea {
        width: 100%;
        box-sizing: border-box;
        min-height: 54px;
        resize: vertical;
      }
      .submit {
        width: 100%;
        padding: 9px;
        font-weight: 600;
      }
      .msg {
        min-height: 1.4em;
        font-size: 13px;
      }
      .hint {
        background: #fff8e8;
        border-color: #f0d9a8;
        font-size: 13px;
      }
      .empty {
        grid-column: 1 / -1;
        display: grid;
        place-items: center;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @consume({ context: outboxContext }) private outbox!: VoteOutbox;
  @consume({ context: sessionContext, subscribe: true }) private session: Session | null = null;

  @state() private current: Slot | null = null;
  @state() private upcoming: Slot[] = [];
  @state() private form: Form = emptyForm();
  @state() private message = '';
  @state() private helpOpen = false;
  @state() private queueEmpty = false;
  @state() private stats: QueueStats | null = null;
  @state() private sessionVotes = 0;
  @query('xray-viewer') private viewer!: XrayViewer;

  private history: { image: ImageDto; vote: VoteInput; comment: string }[] = [];
  /** The image whose abnormal vote without a type was already questioned once: the next submit goes through. */
  private nudgedFor: string | null = null;
  /**
   * Type hints by image id, fetched with each image while model hints are on (a few hundred bytes per image of a
   * session), and the images whose form started from theirs: only those votes record `anomalyHint`.
   */
  private typeHints = new Map<string, ImageTypeHint>();
  private preselected = new Set<string>();
  /**
   * Heatmaps by image id (null: none, or blind to this user), fetched with each image — also the prefetched
   * ones, so the overlay is there the moment its image is.
   */
  private heatmaps = new Map<string, ImageHeatmap | null>();
  private loader: ImageLoader | null = null;
  private prefetching = false;
  private readonly prefetch = new URLSearchParams(location.search).get('prefetch') !== '0';

  private setup = new Task(this, {
    task: async (_args, { signal }) => {
      const [types, dataset, settings] = await Promise.all([
        listAnomalyTypes(this.api, signal),
        getDatasetStats(this.api, signal).catch(() => null),
        getSettings(this.api, signal).catch(() => null),
      ]);
      const hint = modelHintEnabled(settings);
      // Only a page that shows the model's hint needs to say what backbone the hint rests on.
      const models = hint ? await listModels(this.api, signal).catch(() => [] as ModelDto[]) : [];
      return { types, dataset, hint, models };
    },
    args: () => [],
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.loader = new ImageLoader(this.api);
    addEventListener('keydown', this.onKey);
    void this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('keydown', this.onKey);
    this.loader?.dispose();
    this.loader = null;
  }

  private get types(): AnomalyType[] {
    return this.setup.value?.types ?? [];
  }

  override render() {
    if (this.queueEmpty && !this.current) {
      return html`<div class="empty card">
        <div>
          <h1>Nothing left to label</h1>
          <p class="muted">
            Every image in your queue has your vote. ${this.sessionVotes} voted in this session.
          </p>
          <button @click=${() => this.start()}>Check again</button>
        </div>
      </div>`;
    }
    const cur = this.current;
    const ds = this.setup.value?.dataset;
    const showHint = this.hintShown(cur?.image);
    return html`
      <xray-viewer
        .loaded=${cur?.loaded ?? null}
        .upcoming=${this.upcoming.map((s) => s.loaded).filter((l): l is LoadedImage => !!l)}
        .datasetBounds=${ds ? { globalMin: ds.globalMin, globalMax: ds.globalMax } : null}
        .message=${cur?.error ?? (cur ? '' : this.setup.error ? describeError(this.setup.error) : 'Loading…')}
        .heatmap=${cur ? (this.heatmaps.get(cur.image.id) ?? null) : null}
      ></xray-viewer>
      <aside>
        <div class="card">
          <div class="meta">
            <strong data-testid="image-name">${cur ? cur.image.name : '—'}</strong>
            <span class="muted" title="bundle">${cur ? cur.image.bundle : ''}</span>
          </div>
          <div class="meta muted" data-testid="progress">
            ${
              this.stats
                ? html`<span>Done today: ${this.stats.votedToday}</span
                    ><span>Left in queue: ${this.stats.remaining}</span>`
                : html`<span>This session: ${this.sessionVotes}</span><span></span>`
            }
          </div>
        </div>
        ${
          showHint && cur?.image.prediction
            ? html`<div class="card hint" role="note">
                Model hint: p(abnormal) =
                ${cur.image.prediction.pAbnormal.toFixed(2)}${this.renderTypeHint(cur.image.id)} (shown by the
                installation's setting; your vote records that you saw
                it)${this.renderCaveat(cur.image.prediction.modelVersion)}
              </div>`
            : nothing
        }
        <div class="card">
          <verdict-form
            keyHints
            .types=${this.types}
            .value=${this.form}
            @verdict-change=${(e: CustomEvent<VerdictValue>) => (this.form = { ...this.form, ...e.detail })}
          ></verdict-form>
        </div>
        <div class="card">
          <label class="muted" for="comment">Comment (optional)</label>
          <textarea
            id="comment"
            .value=${this.form.comment}
            @input=${(e: InputEvent) => (this.form = { ...this.form, comment: (e.target as HTMLTextAreaElement).value })}
            @keydown=${this.onCommentKey}
          ></textarea>
        </div>
        <button class="primary submit" @click=${() => this.submit()} ?disabled=${!cur}>
          Submit <kbd aria-hidden="true">Enter</kbd>
        </button>
        <div class="msg" role="alert">${this.message}</div>
        <div class="card">
          <h3>Your votes</h3>
          <outbox-status></outbox-status>
        </div>
        <p class="muted">Press <kbd>?</kbd> for keys.</p>
      </aside>
      <help-overlay
        heading="Labeling keys"
        .items=${LABEL_KEYS}
        ?open=${this.helpOpen}
        @close=${() => (this.helpOpen = false)}
      ></help-overlay>
    `;
  }

  private hintShown(image: ImageDto | undefined): boolean {
    return !!(this.setup.value?.hint && image?.prediction);
  }

  /** "untrained backbone" after the hint when the model that gave it rests on that backbone. */
  private renderCaveat(version: string) {
    const caveat = backboneCaveat(this.setup.value?.models.find((m) => m.version === version));
    return caveat ? html`<strong data-testid="model-backbone"> — ${caveat}: a weak hint.</strong>` : nothing;
  }

  /** The pre-selected types with their p, when this image's form started from the model's type hint. */
  private renderTypeHint(imageId: string) {
    const hint = this.typeHints.get(imageId);
    if (!hint || !this.preselected.has(imageId)) return nothing;
    const p = new Map(hint.anomalies.map((a) => [a.code, a.p]));
    const names = hint.preselect.map(
      (c) => `${this.types.find((t) => t.code === c)?.name ?? c} ${p.get(c)?.toFixed(2)}`,
    );
    return html`<span data-testid="type-hint"
      >;
      ${names.length ? `likely types, pre-selected: ${names.join(', ')}` : 'no anomaly type above 0.50'}</span
    >`;
  }

  /**
   * Fetches the model's type hint for an image (`GET /api/images/:id/prediction`) when the installation allows model
   * hints and the queue showed the image's prediction; blind otherwise (typeHint). Applied when it is the current image.
   */
  private async loadTypeHint(image: ImageDto): Promise<void> {
    if (this.typeHints.has(image.id)) return;
    await this.updateComplete; // the setup task starts with the first update; before it, taskComplete is empty
    const setup = await this.setup.taskComplete.catch(() => undefined);
    const allowed = !!setup?.hint && !!image.prediction;
    const prediction = allowed ? await getPrediction(this.api, image.id).catch(() => null) : null;
    const hint = typeHint(allowed, prediction, setup?.types ?? []);
    this.typeHints.set(image.id, { ...hint, anomalies: prediction?.anomalies ?? [] });
    if (this.current?.image.id === image.id) this.applyTypeHint(image.id);
  }

  /**
   * Fetches an image's heatmap when this user may see the model's output: leads and admins always, experts while
   * model hints are on (the API's blind rule; asking otherwise would only earn a 403 per image).
   */
  private async loadHeatmap(image: ImageDto): Promise<void> {
    if (this.heatmaps.has(image.id)) return;
    await this.updateComplete;
    const setup = await this.setup.taskComplete.catch(() => undefined);
    const allowed = this.session?.user.role !== 'expert' || !!setup?.hint;
    const heatmap = allowed ? await getHeatmap(this.api, image.id).catch(() => null) : null;
    this.heatmaps.set(image.id, heatmap);
    // A session visits hundreds of images: keep the newest few dozen (a Map iterates oldest first).
    for (const id of this.heatmaps.keys()) if (this.heatmaps.size > 40) this.heatmaps.delete(id);
    if (this.current?.image.id === image.id) this.requestUpdate();
  }

  /** Starts an untouched form from the image's type hint, once per image: the expert's own input always wins. */
  private applyTypeHint(imageId: string): void {
    const hint = this.typeHints.get(imageId);
    if (!hint || hint.anomalyHint === null || this.preselected.has(imageId) || !untouched(this.form)) return;
    this.preselected.add(imageId);
    this.form = { ...this.form, anomalies: [...hint.preselect] };
  }

  // ---- queue ----------------------------------------------------------------------------------------------

  /** Ids the server must not hand out again: what we hold, and votes not yet acknowledged. */
  private held(): string[] {
    const ids = new Set<string>();
    if (this.current) ids.add(this.current.image.id);
    for (const s of this.upcoming) ids.add(s.image.id);
    for (const e of this.outbox.unsent(this.session?.user.username)) ids.add(e.imageId);
    return [...ids];
  }

  private async start(): Promise<void> {
    this.queueEmpty = false;
    this.message = '';
    void this.refreshStats();
    try {
      const image = await this.fetchNext();
      if (!image) {
        this.queueEmpty = true;
        return;
      }
      this.show({ image, loaded: null, error: '' });
    } catch (err) {
      this.message = describeError(err);
    }
  }

  /** The next image from the server that we do not already hold; waits for a pending vote when needed. */
  private async fetchNext(): Promise<ImageDto | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = this.held();
      const image = await nextInQueue(this.api, held);
      if (!image || !held.includes(image.id)) return image;
      // The server ignored `exclude` or our vote has not landed: wait for the outbox, then ask again.
      await this.outbox.drain(image.id).catch(() => undefined);
      if (this.current?.image.id === image.id) return null;
    }
    return null;
  }

  private show(slot: Slot): void {
    this.current = slot;
    this.message = '';
    this.nudgedFor = null;
    this.applyTypeHint(slot.image.id);
    if (!slot.loaded) void this.load(slot);
    void afterNextFrame().then(() => this.fillPrefetch());
  }

  private async load(slot: Slot): Promise<void> {
    void this.loadTypeHint(slot.image);
    void this.loadHeatmap(slot.image);
    try {
      const loaded = await this.loader!.load(slot.image);
      slot.loaded = loaded;
    } catch (err) {
      slot.error = describeError(err);
    }
    // Stale answers (the user moved on meanwhile) only update their own slot.
    if (this.current === slot) this.current = { ...slot };
    else this.upcoming = [...this.upcoming];
  }

  private async fillPrefetch(): Promise<void> {
    if (!this.prefetch || this.prefetching || !this.loader) return;
    this.prefetching = true;
    try {
      while (this.upcoming.length < PREFETCH_DEPTH) {
        const image = await nextInQueue(this.api, this.held());
        // Held now, not when asked: an Enter meanwhile may have fetched this very image (the server hands the
        // caller's own lease out again).
        if (!image || this.held().includes(image.id)) break;
        const slot: Slot = { image, loaded: null, error: '' };
        this.upcoming = [...this.upcoming, slot];
        void this.load(slot);
      }
    } catch {
      // Prefetch is an optimisation: the next Enter fetches what it needs and reports errors.
    } finally {
      this.prefetching = false;
    }
    this.loader?.retain([...this.held(), ...this.history.slice(-3).map((h) => h.image.id)]);
  }

  private async refreshStats(): Promise<void> {
    this.stats = await queueStats(this.api);
  }

  // ---- actions --------------------------------------------------------------------------------------------

  private async submit(): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    if (!this.form.verdict) {
      this.message = 'Choose Normal (N) or Abnormal (A) first.';
      return;
    }
    // An abnormal verdict without a type is usually a forgotten key, and the type is what the lead and the
    // model's type head learn from: ask once, then let Enter (or the button) submit it as it is.
    if (
      this.form.verdict === 'abnormal' &&
      this.form.anomalies.length === 0 &&
      this.nudgedFor !== cur.image.id
    ) {
      this.nudgedFor = cur.image.id;
      this.message =
        'Abnormal, but which anomaly? Press its key (1–9, 0, -) — or Enter again to submit without a type.';
      return;
    }
    const vote: VoteInput = {
      verdict: this.form.verdict,
      anomalies: this.form.anomalies,
      modelHintShown: this.hintShown(cur.image),
    };
    const typeHintShown = this.preselected.has(cur.image.id) && vote.modelHintShown;
    if (typeHintShown) vote.anomalyHint = this.typeHints.get(cur.image.id)!.anomalyHint;
    if (this.form.comment.trim()) vote.comment = this.form.comment.trim();
    try {
      this.outbox.enqueue(cur.image.id, cur.image.name, vote);
    } catch (err) {
      this.message = describeError(err);
      return;
    }
    this.history.push({ image: cur.image, vote, comment: this.form.comment });
    this.sessionVotes++;
    if (this.stats)
      this.stats = {
        votedToday: this.stats.votedToday + 1,
        remaining: Math.max(0, this.stats.remaining - 1),
      };
    this.form = emptyForm();
    const next = this.upcoming[0];
    if (next) {
      this.upcoming = this.upcoming.slice(1);
      this.show(next);
      return;
    }
    this.current = null;
    try {
      const image = await this.fetchNext();
      // A prefetch that was under way may have taken the same image meanwhile: show that slot instead.
      const prefetched = this.upcoming.find((s) => s.image.id === image?.id);
      if (prefetched) this.upcoming = this.upcoming.filter((s) => s !== prefetched);
      if (image) this.show(prefetched ?? { image, loaded: null, error: '' });
      else this.queueEmpty = true;
    } catch (err) {
      this.message = describeError(err);
      this.current = cur;
    }
  }

  private back(): void {
    const prev = this.history.pop();
    if (!prev) {
      this.message = 'There is no earlier image in this session.';
      return;
    }
    if (this.current) this.upcoming = [{ ...this.current }, ...this.upcoming];
    this.form = { verdict: prev.vote.verdict, anomalies: [...prev.vote.anomalies], comment: prev.comment };
    this.sessionVotes = Math.max(0, this.sessionVotes - 1);
    this.show({ image: prev.image, loaded: null, error: '' });
    this.message = 'Changing your vote on the previous image: Enter saves it again.';
  }

  private onCommentKey = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      (e.target as HTMLTextAreaElement).blur();
      void this.submit();
    } else if (e.key === 'Escape') (e.target as HTMLTextAreaElement).blur();
    e.stopPropagation();
  };

  private onKey = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const target = e.composedPath()[0] as HTMLElement | undefined;
    if (target && (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT')) return;
    if (e.key === '?') {
      this.helpOpen = !this.helpOpen;
      e.preventDefault();
      return;
    }
    if (this.helpOpen) {
      if (e.key === 'Escape') this.helpOpen = false;
      return;
    }
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const typeIndex = ANOMALY_KEYS.indexOf(key);
    if (key === 'n' || key === 'a') {
      this.form = { ...this.form, verdict: key === 'n' ? 'normal' : 'abnormal' };
      this.message = '';
    } else if (typeIndex >= 0 && this.types[typeIndex]) {
      this.form = { ...this.form, ...toggleAnomaly(this.form, this.types[typeIndex].code, this.types) };
    } else if (key === 'Enter') {
      // A focused button would otherwise also "click" on Enter.
      void this.submit();
    } else if (key === 'Backspace') {
      this.back();
    } else if (key === 'r') {
      this.viewer?.resetView();
    } else if (!this.viewer?.handleKey(e)) {
      return;
    }
    e.preventDefault();
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'label-page': LabelPage;
  }
}
