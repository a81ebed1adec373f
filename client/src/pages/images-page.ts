import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { apiContext } from '../context.ts';
import { describeError, type ApiClient } from '../data/api-client.ts';
import { exclusionHistory, getDatasetStats, listBundles, listImages } from '../data/images.ts';
import type { DatasetStatsDto, ExclusionEventDto, ImageDto } from '../../../lib/api-types/images.ts';
import '../components/upload-panel.ts';
import '../components/bounds-panel.ts';
import '../components/exclusion-control.ts';
import { base } from '../styles.ts';

type Shown = 'all' | 'included' | 'excluded';

/**
 * Images in and out (issue 15; lead, admin): upload in the browser, method 2's bounds and their pin, and the images
 * of a bundle with exclude and restore. `npm run import` is the other way in (README).
 */
@customElement('images-page')
export class ImagesPage extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: grid;
        grid-template-columns: minmax(0, 3fr) minmax(280px, 2fr);
        gap: 14px;
        padding: 14px;
        align-items: start;
      }
      .wide {
        grid-column: 1 / -1;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 13px;
      }
      td,
      th {
        padding: 4px 8px;
        text-align: left;
        border-bottom: 1px solid var(--line);
      }
      td.num {
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
      }
      tr[aria-selected='true'] td {
        background: var(--accent-soft);
      }
      tr.excluded td {
        color: var(--muted);
        text-decoration: line-through;
      }
      tr.excluded td.state {
        text-decoration: none;
        color: var(--bad);
      }
      .row {
        display: flex;
        gap: 8px;
        align-items: center;
        flex-wrap: wrap;
        margin-bottom: 8px;
      }
      ul {
        padding-left: 18px;
        margin: 6px 0 0;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @state() private bundle = '';
  @state() private shown: Shown = 'all';
  @state() private stats: DatasetStatsDto | null = null;
  @state() private selected: ImageDto | null = null;
  @state() private history: ExclusionEventDto[] = [];
  @state() private images: ImageDto[] = [];
  @state() private cursor: string | null = null;
  @state() private error = '';
  @state() private reload = 0;

  private bundles = new Task(this, {
    task: async ([, _reload], { signal }) => {
      const [bundles, stats] = await Promise.all([
        listBundles(this.api, signal),
        getDatasetStats(this.api, signal),
      ]);
      this.stats = stats;
      if (!this.bundle && bundles.length) this.bundle = bundles[0].name;
      return bundles;
    },
    args: () => [this.api, this.reload] as const,
  });

  private list = new Task(this, {
    task: async ([bundle, shown], { signal }) => {
      if (!bundle) return;
      const page = await listImages(
        this.api,
        { bundle, excluded: shown === 'all' ? undefined : shown === 'excluded', limit: 100 },
        signal,
      );
      this.images = page.items;
      this.cursor = page.nextCursor;
    },
    args: () => [this.bundle, this.shown, this.reload] as const,
  });

  override render() {
    const bundles = this.bundles.value ?? [];
    return html`
      <section class="card wide">
        <h2>Add images</h2>
        <upload-panel .bundles=${bundles} @uploaded=${this.onUploaded}></upload-panel>
      </section>
      <section class="card">
        <h2>Images</h2>
        <div class="row">
          <label>
            Bundle
            <select
              aria-label="Bundle"
              .value=${this.bundle}
              @change=${(e: Event) => this.pick((e.target as HTMLSelectElement).value, this.shown)}
            >
              ${bundles.map(
                (b) =>
                  html`<option value=${b.name} ?selected=${b.name === this.bundle}>
                    ${b.name} (${b.images}${b.excluded ? ` + ${b.excluded} excluded` : ''})
                  </option>`,
              )}
            </select>
          </label>
          <label>
            Show
            <select
              aria-label="Show"
              @change=${(e: Event) => this.pick(this.bundle, (e.target as HTMLSelectElement).value as Shown)}
            >
              <option value="all">all</option>
              <option value="included">included</option>
              <option value="excluded">excluded</option>
            </select>
          </label>
        </div>
        ${this.list.render({ error: (e) => html`<p class="error">${describeError(e)}</p>` })}
        ${
          this.images.length === 0
            ? html`<p class="muted">No images here.</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Status</th>
                    <th>0.01–99.99 %</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  ${this.images.map(
                    (img) =>
                      html`<tr
                        class=${img.excluded ? 'excluded' : ''}
                        aria-selected=${String(img.id === this.selected?.id)}
                        data-testid="image-row"
                      >
                        <td>${img.name}</td>
                        <td class="state">${img.excluded ? 'excluded' : img.status.replace('_', ' ')}</td>
                        <td class="num">${img.stats.p0_01}–${img.stats.p99_99}</td>
                        <td>
                          <button @click=${() => this.select(img)}>
                            ${img.excluded ? 'Restore…' : 'Exclude…'}
                          </button>
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
        ${this.cursor ? html`<button @click=${this.more}>More</button>` : nothing}
        <p class="error" role="alert">${this.error}</p>
      </section>
      <aside>
        <section class="card">
          <h2>Method-2 bounds</h2>
          <bounds-panel
            .stats=${this.stats}
            @stats-change=${(e: CustomEvent<DatasetStatsDto>) => (this.stats = e.detail)}
          ></bounds-panel>
        </section>
        ${this.selected ? this.renderSelected(this.selected) : nothing}
      </aside>
    `;
  }

  private renderSelected(img: ImageDto) {
    return html`<section class="card" data-testid="selected-image">
      <h2>${img.name}</h2>
      <p class="muted">bundle ${img.bundle} · ${img.width}×${img.height}, ${img.bitDepth}-bit</p>
      <exclusion-control .image=${img} @image-change=${this.onImageChange}></exclusion-control>
      ${
        this.history.length
          ? html`<h3>Exclusion history</h3>
              <ul>
                ${this.history.map(
                  (e) =>
                    html`<li>
                      ${new Date(e.at).toLocaleString()} · ${e.by} ·
                      ${e.action}${e.reason ? `: “${e.reason}”` : ''}
                    </li>`,
                )}
              </ul>`
          : nothing
      }
    </section>`;
  }

  private pick(bundle: string, shown: Shown): void {
    this.bundle = bundle;
    this.shown = shown;
    this.selected = null;
  }

  private async select(img: ImageDto): Promise<void> {
    this.selected = img;
    this.history = [];
    try {
      const history = await exclusionHistory(this.api, img.id);
      if (this.selected?.id === img.id) this.history = history;
    } catch (err) {
      this.error = describeError(err);
    }
  }

  private onImageChange = (e: CustomEvent<ImageDto>): void => {
    const img = e.detail;
    this.images = this.images.map((x) => (x.id === img.id ? img : x));
    void this.select(img);
    this.reload++; // counts and bounds changed
  };

  private onUploaded = (): void => {
    this.reload++;
  };

  private more = async (): Promise<void> => {
    if (!this.cursor) return;
    try {
      const page = await listImages(this.api, {
        bundle: this.bundle,
        excluded: this.shown === 'all' ? undefined : this.shown === 'excluded',
        limit: 100,
        cursor: this.cursor,
      });
      this.images = [...this.images, ...page.items];
      this.cursor = page.nextCursor;
    } catch (err) {
      this.error = describeError(err);
    }
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'images-page': ImagesPage;
  }
}
