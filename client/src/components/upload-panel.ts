import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { apiContext } from '../context.ts';
import type { ApiClient } from '../data/api-client.ts';
import { UploadBatch, type UploadEntry, type UploadState } from '../data/upload-batch.ts';
import type { BundleDto } from '../../../lib/api-types/images.ts';
import { base } from '../styles.ts';

/** A file and its path inside a dropped or chosen folder. */
interface Picked {
  file: File;
  path: string;
}

const STATE_LABEL: Record<UploadState, string> = {
  waiting: 'waiting',
  checking: 'checking',
  sending: 'sending',
  stored: 'stored',
  duplicate: 'duplicate',
  rejected: 'rejected',
  cancelled: 'cancelled',
};

const size = (n: number) => (n < 1048576 ? `${Math.ceil(n / 1024)} kB` : `${(n / 1048576).toFixed(1)} MB`);

/** Rows of the per-file list drawn at once; a batch of thousands lists its problems first, then a count. */
const LIST_ROWS = 400;

/**
 * Upload in the browser (issue 15; lead, admin): drop a folder or many TIFFs (or choose them), choose or create the
 * bundle, and watch per-file and overall progress. Duplicates are recognised by SHA-256, every rejected file is
 * listed with its reason, and images far outside the method-2 bounds are flagged. Fires `uploaded` when a batch ends.
 */
@customElement('upload-panel')
export class UploadPanel extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .drop {
        border: 2px dashed var(--line);
        border-radius: 8px;
        padding: 18px;
        text-align: center;
        color: var(--muted);
      }
      .drop.over {
        border-color: var(--accent);
        background: var(--accent-soft);
      }
      .row {
        display: flex;
        gap: 8px;
        align-items: center;
        flex-wrap: wrap;
        margin: 10px 0;
      }
      progress {
        width: 100%;
      }
      .list {
        max-height: 360px;
        overflow: auto;
        border: 1px solid var(--line);
        border-radius: 6px;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 13px;
      }
      td,
      th {
        padding: 3px 8px;
        text-align: left;
        border-bottom: 1px solid var(--line);
        vertical-align: top;
      }
      td.path {
        word-break: break-all;
      }
      td progress {
        width: 90px;
      }
      .stored {
        color: var(--ok);
      }
      .duplicate {
        color: var(--muted);
      }
      .rejected,
      .flag {
        color: var(--bad);
      }
      .summary {
        font-variant-numeric: tabular-nums;
      }
      input.hidden {
        display: none;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @property({ attribute: false }) bundles: BundleDto[] = [];
  @state() private bundle = '';
  @state() private picked: Picked[] = [];
  @state() private over = false;
  @state() private batch: UploadBatch | null = null;
  @state() private running = false;
  /** Bumped (at most once a frame) when the batch changes, so a thousand progress events cost a few renders. */
  @state() private tick = 0;
  private frame = 0;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.batch?.cancel();
    cancelAnimationFrame(this.frame);
  }

  override render() {
    const b = this.batch;
    return html`
      <div
        class="drop ${this.over ? 'over' : ''}"
        data-testid="drop-zone"
        @dragover=${this.onDragOver}
        @dragleave=${() => (this.over = false)}
        @drop=${this.onDrop}
      >
        Drop a folder or TIFF files here, or
        <button @click=${() => this.input('files')?.click()} ?disabled=${this.running}>choose files</button>
        <button @click=${() => this.input('folder')?.click()} ?disabled=${this.running}>
          choose a folder
        </button>
        <input
          class="hidden"
          type="file"
          name="files"
          multiple
          accept=".tif,.tiff,image/tiff"
          @change=${this.onInput}
        />
        <input class="hidden" type="file" name="folder" webkitdirectory multiple @change=${this.onInput} />
      </div>
      <div class="row">
        <label for="bundle">Bundle</label>
        <input
          id="bundle"
          list="bundle-names"
          placeholder="existing or new bundle"
          .value=${this.bundle}
          ?disabled=${this.running}
          @input=${(e: InputEvent) => (this.bundle = (e.target as HTMLInputElement).value)}
        />
        <datalist id="bundle-names">
          ${this.bundles.map((x) => html`<option value=${x.name}></option>`)}
        </datalist>
        <span class="muted">
          ${
            this.picked.length
              ? `${this.picked.length} file${this.picked.length === 1 ? '' : 's'} chosen`
              : 'no files chosen'
          }
          ${
            this.bundle.trim() && !this.bundles.some((x) => x.name === this.bundle.trim())
              ? html` · a new bundle`
              : nothing
          }
        </span>
        <button
          class="primary"
          ?disabled=${this.running || this.picked.length === 0 || this.bundle.trim() === ''}
          @click=${this.start}
        >
          Upload
        </button>
        ${this.running ? html`<button @click=${() => this.batch?.cancel()}>Cancel</button>` : nothing}
      </div>
      ${b ? this.renderBatch(b) : nothing}
    `;
  }

  private renderBatch(b: UploadBatch) {
    void this.tick;
    const t = b.totals;
    // Problems first (rejected, flagged), then what is moving, then the rest: the list a lead must read is on top.
    const rank = (e: UploadEntry) =>
      e.state === 'rejected' ? 0 : e.flagged ? 1 : e.state === 'sending' || e.state === 'checking' ? 2 : 3;
    const rows = [...b.entries].sort((x, y) => rank(x) - rank(y)).slice(0, LIST_ROWS);
    return html`
      <p class="summary" role="status" data-testid="upload-summary">
        ${t.finished} of ${t.files} files done · ${t.stored} stored · ${t.duplicates}
        duplicate${t.duplicates === 1 ? '' : 's'} · ${t.rejected}
        rejected${t.flagged ? html` · <span class="flag">${t.flagged} outside the bounds</span>` : nothing} ·
        ${size(t.sentBytes)} of ${size(t.bytes)}
      </p>
      <progress aria-label="Overall progress" max=${Math.max(1, t.bytes)} value=${t.sentBytes}></progress>
      <div class="list">
        <table>
          <thead>
            <tr>
              <th>File</th>
              <th>State</th>
              <th>Progress</th>
              <th>Note</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (e) =>
                html`<tr data-testid="upload-row">
                  <td class="path">${e.path}</td>
                  <td class=${e.flagged ? 'flag' : e.state}>
                    ${e.flagged ? 'flagged' : STATE_LABEL[e.state]}
                  </td>
                  <td>
                    <progress
                      max=${Math.max(1, e.file.size)}
                      value=${e.state === 'stored' || e.state === 'duplicate' ? e.file.size : e.sent}
                    ></progress>
                  </td>
                  <td>${e.message}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${
          b.entries.length > LIST_ROWS
            ? html`<p class="muted">
                … and ${b.entries.length - LIST_ROWS} more files (the summary counts all).
              </p>`
            : nothing
        }
      </div>
    `;
  }

  private input(name: 'files' | 'folder'): HTMLInputElement | null {
    return this.renderRoot.querySelector(`input[name=${name}]`);
  }

  private onDragOver = (e: DragEvent): void => {
    e.preventDefault();
    this.over = true;
  };

  private onDrop = async (e: DragEvent): Promise<void> => {
    e.preventDefault();
    this.over = false;
    if (this.running || !e.dataTransfer) return;
    this.choose(await droppedFiles(e.dataTransfer));
  };

  private onInput = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    this.choose(
      Array.from(input.files ?? [], (file) => ({ file, path: file.webkitRelativePath || file.name })),
    );
    input.value = '';
  };

  /** A folder names the bundle when none is given yet: folders of electrodes usually are bundles. */
  private choose(files: Picked[]): void {
    this.picked = files;
    const folder = files.find((f) => f.path.includes('/'))?.path.split('/')[0];
    if (!this.bundle.trim() && folder) this.bundle = folder;
    this.batch = null;
  }

  private start = async (): Promise<void> => {
    const batch = new UploadBatch(this.api, this.bundle.trim(), this.picked);
    batch.addEventListener('change', () => {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.tick++;
      });
    });
    this.batch = batch;
    this.running = true;
    try {
      await batch.run();
    } finally {
      this.running = false;
      this.picked = [];
      this.tick++;
      this.dispatchEvent(
        new CustomEvent('uploaded', { detail: batch.totals, bubbles: true, composed: true }),
      );
    }
  };
}

/** Every file of a drop, folders walked recursively (FileSystemEntry API; plain files when it is missing). */
async function droppedFiles(dt: DataTransfer): Promise<Picked[]> {
  const entries = Array.from(dt.items, (i) => i.webkitGetAsEntry?.() ?? null);
  if (entries.some((e) => e === null)) return Array.from(dt.files, (file) => ({ file, path: file.name }));
  const out: Picked[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) =>
        (entry as FileSystemFileEntry).file(resolve, reject),
      );
      out.push({ file, path: prefix + file.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in chunks (100 in Chromium) until it answers none.
      for (;;) {
        const chunk = await new Promise<FileSystemEntry[]>((resolve, reject) =>
          reader.readEntries(resolve, reject),
        );
        if (chunk.length === 0) break;
        for (const child of chunk) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e!, '');
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

declare global {
  interface HTMLElementTagNameMap {
    'upload-panel': UploadPanel;
  }
  interface HTMLElementEventMap {
    uploaded: CustomEvent<import('../data/upload-batch.ts').UploadTotals>;
  }
}
