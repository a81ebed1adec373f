import { ApiError, describeError, type ApiClient } from './api-client.ts';
import { listImages, uploadImage } from './images.ts';
import type { ImageDto, UploadedImageDto } from '../../../lib/api-types/images.ts';

/**
 * A batch of files uploaded into one bundle from the browser (issue 15): a few at a time, each with its own
 * progress and outcome, so a folder of thousands of TIFFs keeps the page responsive and every file is accounted for.
 *
 * Memory stays bounded: the browser streams each file from disk (XMLHttpRequest with the File as body), and the
 * only bytes read here are those of the file a worker is hashing — at most `concurrency` files at once.
 */
export type UploadState =
  'waiting' | 'checking' | 'sending' | 'stored' | 'duplicate' | 'rejected' | 'cancelled';

export interface UploadEntry {
  /** The file's path inside the dropped folder, or its name. */
  path: string;
  file: File;
  state: UploadState;
  /** Bytes sent so far. */
  sent: number;
  /** Why it was rejected, what it duplicates, or what the upload report flagged. */
  message: string;
  /** Set when the upload report flags the image as far outside the method-2 bounds. */
  flagged: boolean;
  image: ImageDto | null;
}

export interface UploadTotals {
  files: number;
  finished: number;
  stored: number;
  duplicates: number;
  rejected: number;
  flagged: number;
  bytes: number;
  sentBytes: number;
}

/** How many files travel at once: enough to hide latency, few enough to keep the server's decode pool free. */
export const UPLOAD_CONCURRENCY = 3;

/** Files whose bytes the browser hashes before sending (a duplicate then costs no transfer); larger ones the server hashes. */
const HASH_BELOW = 256 * 1024 * 1024;

export const isTiffName = (name: string) => /\.tiff?$/i.test(name);

export class UploadBatch extends EventTarget {
  readonly entries: UploadEntry[];
  private readonly controller = new AbortController();
  /** SHA-256 → the first entry of this batch with those bytes. */
  private readonly seen = new Map<string, UploadEntry>();
  private next = 0;

  constructor(
    private readonly api: ApiClient,
    readonly bundle: string,
    files: readonly { file: File; path: string }[],
    private readonly concurrency = UPLOAD_CONCURRENCY,
  ) {
    super();
    this.entries = files.map(({ file, path }) => ({
      path,
      file,
      state: isTiffName(file.name) ? 'waiting' : 'rejected',
      sent: 0,
      message: isTiffName(file.name) ? '' : 'not a TIFF: only .tif and .tiff files are uploaded',
      flagged: false,
      image: null,
    }));
  }

  get totals(): UploadTotals {
    const t: UploadTotals = {
      files: this.entries.length,
      finished: 0,
      stored: 0,
      duplicates: 0,
      rejected: 0,
      flagged: 0,
      bytes: 0,
      sentBytes: 0,
    };
    for (const e of this.entries) {
      if (e.state === 'rejected' && !isTiffName(e.file.name)) {
        t.rejected++;
        t.finished++;
        continue;
      }
      t.bytes += e.file.size;
      t.sentBytes += e.state === 'duplicate' || e.state === 'stored' ? e.file.size : e.sent;
      if (e.state === 'stored') t.stored++;
      if (e.state === 'duplicate') t.duplicates++;
      if (e.state === 'rejected') t.rejected++;
      if (e.flagged) t.flagged++;
      if (!['waiting', 'checking', 'sending'].includes(e.state)) t.finished++;
    }
    return t;
  }

  /** Uploads every waiting file; resolves when all are finished or the batch is cancelled. */
  async run(): Promise<void> {
    const workers = Array.from({ length: Math.min(this.concurrency, this.entries.length) }, () =>
      this.work(),
    );
    await Promise.all(workers);
    this.changed();
  }

  cancel(): void {
    this.controller.abort();
    for (const e of this.entries) if (e.state === 'waiting') e.state = 'cancelled';
    this.changed();
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }

  private async work(): Promise<void> {
    while (!this.controller.signal.aborted) {
      // Workers share one cursor: each takes the next waiting file (JavaScript runs them one step at a time).
      while (this.next < this.entries.length && this.entries[this.next].state !== 'waiting') this.next++;
      if (this.next >= this.entries.length) return;
      const entry = this.entries[this.next++];
      await this.upload(entry);
      this.changed();
    }
  }

  private async upload(entry: UploadEntry): Promise<void> {
    const signal = this.controller.signal;
    try {
      entry.state = 'checking';
      this.changed();
      const known = await this.knownCopy(entry, signal);
      if (known) {
        entry.state = 'duplicate';
        entry.message = known.message;
        entry.image = known.image;
        return;
      }
      entry.state = 'sending';
      this.changed();
      const image: UploadedImageDto = await uploadImage(
        this.api,
        this.bundle,
        entry.file,
        (sent) => {
          entry.sent = sent;
          this.changed();
        },
        signal,
      );
      entry.image = image;
      entry.sent = entry.file.size;
      if (image.upload.duplicate) {
        entry.state = 'duplicate';
        entry.message = `same bytes as ${image.bundle}/${image.name}, already stored`;
      } else {
        entry.state = 'stored';
        const flag = image.upload.outsideBounds;
        entry.flagged = flag !== null;
        entry.message = flag?.message ?? '';
      }
    } catch (err) {
      if (signal.aborted) {
        entry.state = 'cancelled';
        return;
      }
      entry.state = 'rejected';
      entry.message = err instanceof ApiError ? err.detail || err.message : describeError(err);
    }
  }

  /**
   * An image these bytes are already stored as (here or earlier in this batch), by SHA-256; null when none is known
   * or the browser cannot hash (crypto.subtle exists on https and localhost only: the server still recognises the
   * bytes then).
   */
  private async knownCopy(
    entry: UploadEntry,
    signal: AbortSignal,
  ): Promise<{ message: string; image: ImageDto | null } | null> {
    if (!globalThis.crypto?.subtle || entry.file.size >= HASH_BELOW) return null;
    const digest = await crypto.subtle.digest('SHA-256', await entry.file.arrayBuffer());
    const sha256 = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
    const earlier = this.seen.get(sha256);
    if (earlier) return { message: `same bytes as ${earlier.path} in this upload`, image: earlier.image };
    this.seen.set(sha256, entry);
    const { items } = await listImages(this.api, { sha256, limit: 1 }, signal);
    const image = items[0];
    return image ? { message: `same bytes as ${image.bundle}/${image.name}, already stored`, image } : null;
  }
}
