import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { consume } from '@lit/context';
import { apiContext } from '../context.ts';
import { describeError, type ApiClient } from '../data/api-client.ts';
import { excludeImage, restoreImage } from '../data/images.ts';
import type { ImageDto } from '../../../lib/api-types/images.ts';
import { base } from '../styles.ts';

/**
 * Exclude an image with a reason, or restore it (lead, admin; issue 15). An excluded image leaves the queue, the
 * statistics, the dataset bounds and training; its votes stay. Fires `image-change` with the image as it is now.
 */
@customElement('exclusion-control')
export class ExclusionControl extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      form {
        display: flex;
        gap: 6px;
        flex-wrap: wrap;
        align-items: center;
      }
      input {
        flex: 1;
        min-width: 12em;
      }
      .excluded {
        color: var(--bad);
      }
      .error {
        color: var(--bad);
        margin: 4px 0 0;
      }
      p {
        margin: 0 0 6px;
      }
    `,
  ];

  @consume({ context: apiContext }) private api!: ApiClient;
  @property({ attribute: false }) image: ImageDto | null = null;
  @state() private reason = '';
  @state() private busy = false;
  @state() private error = '';

  override willUpdate(changed: Map<string, unknown>): void {
    const before = changed.get('image') as ImageDto | null | undefined;
    if (changed.has('image') && before?.id !== this.image?.id) {
      this.reason = '';
      this.error = '';
    }
  }

  override render() {
    const img = this.image;
    if (!img) return null;
    if (img.excluded) {
      return html`<p class="excluded" data-testid="excluded">
          Excluded by ${img.excluded.by} on ${new Date(img.excluded.at).toLocaleString()}:
          “${img.excluded.reason}”
        </p>
        <button ?disabled=${this.busy} @click=${this.restore}>Restore image</button>
        <p class="error" role="alert">${this.error}</p>`;
    }
    return html`<form @submit=${this.exclude}>
        <input
          aria-label="Reason for excluding"
          placeholder="Why exclude it?"
          .value=${this.reason}
          @input=${(e: InputEvent) => (this.reason = (e.target as HTMLInputElement).value)}
        />
        <button type="submit" ?disabled=${this.busy || this.reason.trim() === ''}>Exclude image</button>
      </form>
      <p class="error" role="alert">${this.error}</p>`;
  }

  private exclude = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!this.image) return;
    await this.act(() => excludeImage(this.api, this.image!.id, this.reason.trim()));
  };

  private restore = async (): Promise<void> => {
    if (!this.image) return;
    await this.act(() => restoreImage(this.api, this.image!.id));
  };

  private async act(call: () => Promise<ImageDto>): Promise<void> {
    this.busy = true;
    this.error = '';
    try {
      const image = await call();
      this.reason = '';
      this.dispatchEvent(new CustomEvent('image-change', { detail: image, bubbles: true, composed: true }));
    } catch (err) {
      this.error = describeError(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'exclusion-control': ExclusionControl;
  }
  interface HTMLElementEventMap {
    'image-change': CustomEvent<ImageDto>;
  }
}
