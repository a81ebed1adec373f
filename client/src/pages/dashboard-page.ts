import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { apiContext, sessionContext, type Session } from '../context.ts';
import { describeError, type ApiClient } from '../data/api-client.ts';
import { listAnomalyTypes } from '../data/anomaly-types.ts';
import type { AnomalyType } from '../../../lib/anomaly-types.ts';
import { getDatasetStats, listBundles } from '../data/images.ts';
import { getAgreement } from '../data/metrics.ts';
import { backboneCaveat, listJobs, listModels, trainModel } from '../data/models.ts';
import { getReferences } from '../data/references.ts';
import type { ReferencesDto } from '../../../lib/api-types/references.ts';
import '../components/reference-panel.ts';
import type { JobDto } from '../../../lib/api-types/jobs.ts';
import type { ModelDto, Score } from '../../../lib/api-types/models.ts';
import type { Method } from '../../../lib/domain.ts';
import { nameOf } from '../data/users.ts';
import { table1 } from '../data/table1.ts';
import '../components/upcoming-queue.ts';
import '../components/dataset-histogram.ts';
import '../components/bar-chart.ts';
import '../components/bounds-notice.ts';
import type { BarGroup } from '../components/bar-chart.ts';
import { base } from '../styles.ts';

const fmt = (x: number | null | undefined, digits = 2) =>
  x == null || Number.isNaN(x) ? '—' : x.toFixed(digits);
const pct = (x: number | null | undefined) => (x == null ? '—' : (x * 100).toFixed(2));

/** Why a per-bundle balanced accuracy is missing: the bundle lacks a class (docs/domain.md, "Scores"). */
function whyMissing(c: Score): string {
  if (c.tp + c.fn === 0) return 'No abnormal image in this bundle: the true-positive rate is undefined.';
  if (c.tn + c.fp === 0) return 'No normal image in this bundle: the true-negative rate is undefined.';
  return 'Undefined.';
}

@customElement('dashboard-page')
export class DashboardPage extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(520px, 1fr));
        gap: 12px;
        padding: 12px;
        align-content: start;
      }
      .wide {
        grid-column: 1 / -1;
      }
      .bar {
        height: 8px;
        background: var(--line);
        border-radius: 4px;
        overflow: hidden;
      }
      progress {
        width: 100%;
        height: 10px;
      }
      .best {
        font-weight: 700;
      }
      .caveat {
        color: var(--warn);
        font-size: 12px;
        margin-left: 6px;
      }
      tr.below td {
        background: #fdf0ee;
      }
      .below-mark {
        color: var(--bad);
        font-weight: 600;
      }
      .row {
        display: flex;
        gap: 8px;
        align-items: center;
        justify-content: space-between;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @consume({ context: sessionContext, subscribe: true }) private session: Session | null = null;
  @state() private bundle = '';
  @state() private method: Method = 2;
  @state() private trainMsg = '';

  private data = new Task(this, {
    task: async ([role], { signal }) => {
      // Each card asks only for what the viewer's role may read: jobs and agreement are the lead's (experts vote
      // blind), so an expert's dashboard neither asks for them nor shows their refusal as "none".
      const lead = role === 'lead' || role === 'admin';
      const [bundles, dataset, models, jobs, types] = await Promise.all([
        listBundles(this.api, signal).catch(() => []),
        getDatasetStats(this.api, signal).catch(() => null),
        listModels(this.api, signal).catch(() => [] as ModelDto[]),
        lead ? listJobs(this.api, signal) : Promise.resolve(null),
        listAnomalyTypes(this.api, signal).catch(() => []),
      ]);
      // The bundle table's agreement column: Krippendorff's alpha per bundle (any number of votes per image).
      const alphas = await Promise.all(
        (lead ? bundles : []).map((b) =>
          getAgreement(this.api, b.name, signal)
            .then((a) => a.krippendorffAlpha)
            .catch(() => null),
        ),
      );
      return {
        bundles: bundles.map((b, i) => ({ ...b, agreement: alphas[i] ?? null })),
        dataset,
        models,
        jobs,
        types,
      };
    },
    args: () => [this.session?.user.role] as const,
  });

  private agreement = new Task(this, {
    task: async ([bundle, lead], { signal }) =>
      lead ? getAgreement(this.api, bundle || undefined, signal) : null,
    args: () => [this.bundle, this.isLead] as const,
  });

  private references = new Task(this, {
    task: async ([lead], { signal }) => (lead ? getReferences(this.api, signal) : null),
    args: () => [this.isLead] as const,
  });

  private get isLead(): boolean {
    const role = this.session?.user.role;
    return role === 'lead' || role === 'admin';
  }

  private poll = 0;
  override connectedCallback(): void {
    super.connectedCallback();
    // Job progress moves while training runs: refresh every 5 s while a job is open.
    this.poll = window.setInterval(() => {
      if (this.data.value?.jobs?.some((j) => j.status === 'queued' || j.status === 'running'))
        this.data.run();
    }, 5000);
  }
  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.poll);
  }

  override render() {
    // Experts vote blind: the API gives them no verdict counts (or agreement) per bundle, only progress,
    // so the table shows those columns to leads and admins alone.
    const verdicts = this.session?.user.role !== 'expert';
    return this.data.render({
      pending: () => html`<p class="card wide">Loading…</p>`,
      error: (e) => html`<p class="card wide error">${describeError(e)}</p>`,
      complete: (d) => html`
        <section class="card wide">
          <h2>Bundles</h2>
          ${
            d.bundles.length
              ? html`<table>
                  <thead>
                    <tr>
                      <th>Bundle</th>
                      <th class="n">Images</th>
                      <th class="n">Labeled</th>
                      <th class="n">Resolved</th>
                      ${
                        verdicts
                          ? html`<th class="n">Normal</th>
                              <th class="n">Abnormal</th>
                              <th class="n" title="Krippendorff’s α of the verdicts">Agreement (α)</th>`
                          : nothing
                      }
                      <th>Progress</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${d.bundles.map(
                      (b) =>
                        html`<tr>
                          <td>${b.name}</td>
                          <td class="n">${b.images}</td>
                          <td class="n">${b.labeled}</td>
                          <td class="n">${b.resolved}</td>
                          ${
                            verdicts
                              ? html`<td class="n">${b.normal ?? '–'}</td>
                                  <td class="n">${b.abnormal ?? '–'}</td>
                                  <td class="n">${fmt(b.agreement ?? null)}</td>`
                              : nothing
                          }
                          <td>
                            <progress
                              max=${b.images || 1}
                              value=${b.resolved}
                              aria-label="${b.name} resolved"
                            ></progress>
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
              : html`<p class="muted">No images yet. An admin can load the demo from the Admin page.</p>`
          }
        </section>
        ${
          // The queue's order with its reasons: leads and admins (the API refuses experts, who vote blind).
          verdicts && d.bundles.length
            ? html`<section class="card wide">
                <h2>Next in the queue, and why</h2>
                <upcoming-queue .limit=${10}></upcoming-queue>
              </section>`
            : nothing
        }
        ${
          this.isLead
            ? this.renderAgreement(
                d.bundles.map((b) => b.name),
                d.types,
              )
            : nothing
        }
        ${this.isLead ? this.renderReferences() : nothing}
        <section class="card">
          <h2>Dataset histogram</h2>
          ${d.dataset ? html`<dataset-histogram .stats=${d.dataset}></dataset-histogram>` : html`<p class="muted">No images yet.</p>`}
          <bounds-notice .stats=${d.dataset}></bounds-notice>
        </section>
        ${this.renderModels(d.models, d.types)} ${d.jobs ? this.renderJobs(d.jobs) : nothing}
      `,
    });
  }

  private renderAgreement(bundles: string[], types: { code: string; name: string }[]) {
    return html`<section class="card">
      <div class="row">
        <h2>Agreement</h2>
        <label
          >Bundle
          <select @change=${(e: Event) => (this.bundle = (e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            ${bundles.map((b) => html`<option .value=${b} ?selected=${b === this.bundle}>${b}</option>`)}
          </select></label
        >
      </div>
      ${this.agreement.render({
        pending: () => html`<p class="muted">Loading…</p>`,
        error: (e) => html`<p class="muted">${describeError(e)}</p>`,
        complete: (a) =>
          !a
            ? nothing
            : html`
                <p>
                  ${a.images} images, ${a.votes} votes · Fleiss’ κ <strong>${fmt(a.fleissKappa)}</strong> ·
                  Krippendorff’s α
                  <strong>${fmt(a.krippendorffAlpha)}</strong>
                </p>
                <h3>Per expert</h3>
                <table data-testid="per-expert">
                  <thead>
                    <tr>
                      <th>Expert</th>
                      <th class="n">Votes</th>
                      <th
                        class="n"
                        title="Share of images where the expert’s verdict matches the other experts’ majority (their own vote left out; ties among the others skipped)"
                      >
                        Agrees with the others
                      </th>
                      <th class="n" title="Cohen’s κ of the expert against the other experts’ majority">
                        κ with the others
                      </th>
                      <th class="n" title="Dawid–Skene: P(says abnormal | abnormal)">Sensitivity</th>
                      <th class="n" title="Dawid–Skene: P(says normal | normal)">Specificity</th>
                      <th>Below the panel</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${a.perExpert.map(
                      (e) =>
                        html`<tr class=${e.belowPanel.length ? 'below' : ''}>
                          <td>${nameOf(e.user)}</td>
                          <td class="n">${e.votes}</td>
                          <td class="n">
                            ${e.withOthers.agreement == null ? '—' : `${pct(e.withOthers.agreement)} %`}
                          </td>
                          <td class="n">${fmt(e.withOthers.kappa)}</td>
                          <td class="n ${e.belowPanel.includes('sensitivity') ? 'below-mark' : ''}">
                            ${fmt(e.dawidSkene.sensitivity)}
                          </td>
                          <td class="n ${e.belowPanel.includes('specificity') ? 'below-mark' : ''}">
                            ${fmt(e.dawidSkene.specificity)}
                          </td>
                          <td>
                            ${
                              e.belowPanel.length
                                ? html`<span class="below-mark">▼ ${e.belowPanel.join(' and ')}</span>`
                                : ''
                            }
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
                <p class="muted">
                  Each expert is compared with the other experts, never with a consensus their own vote helped
                  make. Most plates are normal, so an expert who waves plates through still agrees often;
                  sensitivity shows it. ▼: more than 0.15 below the median of the other experts (experts with
                  at least 10 votes).
                </p>
                <h3>Per anomaly type (Fleiss’ κ on presence)</h3>
                <table>
                  <tbody>
                    ${a.perAnomaly.map(
                      (p) =>
                        html`<tr>
                          <td>${types.find((t) => t.code === p.code)?.name ?? p.code}</td>
                          <td class="n">${fmt(p.fleissKappa)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              `,
      })}
    </section>`;
  }

  private renderReferences() {
    // One template for both states, so a reload after a change keeps the same panel (and its message) on screen.
    const panel = (r: ReferencesDto) =>
      html`<reference-panel .data=${r} @references-changed=${() => this.references.run()}></reference-panel>`;
    return html`<section class="card">
      <h2>Reference images</h2>
      ${this.references.render({
        pending: () =>
          this.references.value ? panel(this.references.value) : html`<p class="muted">Loading…</p>`,
        error: (e) => html`<p class="error">${describeError(e)}</p>`,
        complete: (r) => (r ? panel(r) : nothing),
      })}
    </section>`;
  }

  private async train(): Promise<void> {
    this.trainMsg = 'Starting…';
    try {
      const { jobId } = await trainModel(this.api, { method: this.method, crossValidate: true });
      this.trainMsg = `Training started (job ${jobId}); progress below.`;
      this.data.run();
    } catch (err) {
      this.trainMsg = describeError(err);
    }
  }

  private renderModels(models: ModelDto[], types: AnomalyType[]) {
    const t = table1(models);
    const groups: BarGroup[] = t.bundles.map((b) => ({
      label: b,
      values: t.methods.map((m) => t.cell(m, b)?.balancedAccuracy ?? null),
    }));
    const role = this.session?.user.role;
    return html`<section class="card wide">
      <div class="row">
        <h2>Models</h2>
        ${
          role === 'lead' || role === 'admin'
            ? html`<span
                ><label
                  >Method
                  <select
                    @change=${(e: Event) => (this.method = Number((e.target as HTMLSelectElement).value) as Method)}
                  >
                    ${[1, 2, 3, 4].map((m) => html`<option .value=${String(m)} ?selected=${m === this.method}>${m}</option>`)}
                  </select></label
                >
                <button @click=${() => this.train()}>Train with leave-one-bundle-out</button>
                <span class="muted" role="status">${this.trainMsg}</span></span
              >`
            : nothing
        }
      </div>
      ${
        models.length
          ? html`<table>
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Created</th>
                  <th class="n">Method</th>
                  <th class="n">Images</th>
                  <th class="n">Bundles</th>
                  <th class="n">Balanced accuracy (LOBO)</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${models.map(
                  (m) =>
                    html`<tr>
                      <td>${m.version}</td>
                      <td>${new Date(m.createdAt).toLocaleString()}</td>
                      <td class="n">${m.method}</td>
                      <td class="n">${m.trainedOn.images}</td>
                      <td class="n">${m.trainedOn.bundles}</td>
                      <td class="n">
                        ${m.crossValidation ? `${pct(m.crossValidation.overall.balancedAccuracy)} %` : '—'}
                      </td>
                      <td>
                        ${m.active ? html`<strong>active</strong>` : ''}
                        ${backboneCaveat(m) ? html`<span class="caveat">${backboneCaveat(m)}</span>` : nothing}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">No model trained yet.</p>`
      }
      ${
        models.some((m) => m.backbone.untrained)
          ? html`<p class="caveat" role="note">
              Untrained backbone: these numbers come from a ResNet-34 without ImageNet weights
              (PLATINA_BACKBONE unset), not the paper's network; read them as a baseline, not as the paper's
              results.
            </p>`
          : nothing
      }
      ${
        t.methods.length
          ? html`<h3>
                Leave one bundle out: balanced accuracy (%), as the paper’s Table
                1${
                  models.some((m) => m.backbone.untrained)
                    ? html`<span class="caveat">untrained backbone</span>`
                    : nothing
                }
              </h3>
              <table data-testid="table1">
                <thead>
                  <tr>
                    <th>Test bundle</th>
                    ${t.methods.map((m) => html`<th class="n">Method ${m}</th>`)}
                  </tr>
                </thead>
                <tbody>
                  ${t.bundles.map((b) => {
                    const cells = t.methods.map((m) => t.cell(m, b));
                    const best = Math.max(...cells.map((c) => c?.balancedAccuracy ?? -1));
                    return html`<tr>
                      <td>${b}</td>
                      ${cells.map((c) =>
                        !c
                          ? html`<td class="n">—</td>`
                          : c.balancedAccuracy == null
                            ? html`<td class="n" title=${whyMissing(c)}>—</td>`
                            : html`<td class="n ${c.balancedAccuracy === best ? 'best' : ''}">
                                ${pct(c.balancedAccuracy)}
                              </td>`,
                      )}
                    </tr>`;
                  })}
                  <tr>
                    <td><strong>Overall (pooled)</strong></td>
                    ${t.methods.map((m) => html`<td class="n"><strong>${pct(t.overall(m).balancedAccuracy)}</strong></td>`)}
                  </tr>
                </tbody>
              </table>
              <p class="muted">
                “—”: the bundle lacks a class, so its balanced accuracy is undefined (hover for why); the
                pooled score counts it anyway. Paper (Table 1, overall): 82.31, 85.18, 85.00, 81.02.
              </p>
              <bar-chart .groups=${groups} .series=${t.methods.map((m) => `Method ${m}`)}></bar-chart>`
          : nothing
      }
      ${t.typeMethods.length ? this.renderTypeTable(t, types) : nothing}
    </section>`;
  }

  /** The anomaly-type head beside Table 1: pooled average precision per type, with what a prior-only model gets. */
  private renderTypeTable(t: ReturnType<typeof table1>, types: AnomalyType[]) {
    const first = t.typeMethods[0];
    return html`<h3>Anomaly types: average precision (%), pooled over the held-out bundles</h3>
      <table data-testid="type-ap">
        <thead>
          <tr>
            <th>Type</th>
            <th class="n">Positives</th>
            ${t.typeMethods.map((m) => html`<th class="n">Method ${m}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${types.map((type) => {
            const counted = t.typeScore(first, type.code);
            return html`<tr>
              <td>${type.name}</td>
              <td class="n">${counted ? `${counted.positives} / ${counted.images}` : '—'}</td>
              ${t.typeMethods.map((m) => {
                const s = t.typeScore(m, type.code);
                return s?.averagePrecision == null
                  ? html`<td class="n" title=${s?.note ?? 'not scored'}>—</td>`
                  : html`<td class="n">
                      ${pct(s.averagePrecision)}
                      <span class="muted" title="a model that knows only the type's share"
                        >(${pct(s.priorOnlyAveragePrecision)})</span
                      >
                    </td>`;
              })}
            </tr>`;
          })}
        </tbody>
      </table>
      <p class="muted">
        In brackets: the same for a model that knows only each fold's share of the type — what the head must
        beat. “—”: too few positive images for a number (hover for why).
      </p>`;
  }

  private renderJobs(jobs: JobDto[]) {
    return html`<section class="card">
      <h2>Jobs</h2>
      ${
        jobs.length
          ? jobs.map(
              (j) =>
                html`<div>
                  <div class="row">
                    <span>${j.kind} · ${j.status}</span><span class="muted">${j.message}</span>
                  </div>
                  <progress max="1" value=${j.progress} aria-label="${j.kind} progress"></progress>
                  ${j.error ? html`<p class="error">${j.error}</p>` : nothing}
                </div>`,
            )
          : html`<p class="muted">No training or scoring jobs.</p>`
      }
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dashboard-page': DashboardPage;
  }
}
