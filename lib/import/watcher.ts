import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { knownHashes, uploadTiff } from './api-upload.ts';
import type { BundlePattern } from './bundle-pattern.ts';
import type { WatchedEntry, WatchSource } from './watch-sources.ts';

/**
 * What became of one file; rejects carry the reason (the server's, or the bundle pattern's), and an imported image
 * far outside the method-2 bounds carries the server's flag as its reason (issue 15).
 */
export interface WatchEvent {
  kind: 'imported' | 'duplicate' | 'rejected' | 'failed';
  rel: string;
  bundle: string | null;
  sha256: string | null;
  imageId: string | null;
  status: number | null;
  reason: string | null;
  /** When the file was last written: with `at`, the lag from a complete file to its image in the queue. */
  modifiedMs: number;
  at: number;
}

export interface WatchOptions {
  source: WatchSource;
  pattern: BundlePattern;
  url: string;
  token: string;
  /** The journal of files handled (JSON lines), read at start: a restart skips what it lists. */
  statePath: string;
  /** How often the source is listed (default 1000 ms). */
  pollMs?: number;
  /**
   * A file on disk is complete once its size and mtime are the same in two listings and it has not been
   * written for this long (default 2000 ms): a station writing slowly keeps moving its mtime.
   */
  settleMs?: number;
  /** Uploads at once (default 2). */
  concurrency?: number;
  /** A failed upload (server or network) is tried again after this long (default 10 s). */
  retryMs?: number;
  onEvent?: (e: WatchEvent) => void;
  /** A listing that failed (retried at the next poll). */
  onError?: (err: Error) => void;
}

interface Journaled {
  rel: string;
  version: string;
  kind: WatchEvent['kind'];
  sha256: string | null;
  reason: string | null;
}

/**
 * Watches a folder or bucket prefix and uploads each new TIFF through the API once it is complete. Idempotent by
 * SHA-256 (bytes the server has are not sent again, and the server would answer 200 for them anyway), and by
 * its journal: a file handled before — imported, a duplicate, or rejected with its reason — is not looked at
 * again until it changes, so a restart resumes where the last run stopped. Polls instead of using inotify:
 * it works the same on the network shares and buckets stations write to.
 */
export class FolderWatcher {
  private readonly done = new Map<string, string>();
  private readonly lastSeen = new Map<string, string>();
  private readonly retryAt = new Map<string, number>();
  private known = new Set<string>();
  private stopping = false;
  private prepared = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly batches = new Set<Promise<unknown>>();
  /** Files waiting for an upload slot, and those waiting or uploading (so a listing does not queue them twice). */
  private readonly waiting: { entry: WatchedEntry; resolve: () => void }[] = [];
  private readonly queued = new Set<string>();
  private active = 0;

  constructor(private readonly o: WatchOptions) {}

  /** A new sign-in token (the CLI signs in again when the old one expires). */
  setToken(token: string): void {
    this.o.token = token;
  }

  /** Reads the journal and the server's hashes; then `scanOnce` may be called (start() does both). */
  async prepare(): Promise<void> {
    let text = '';
    try {
      text = await readFile(this.o.statePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const j = JSON.parse(line) as Journaled;
        this.done.set(j.rel, j.version);
      } catch {
        // a line cut by a crash: that file is looked at again (and found known by its hash)
      }
    }
    this.known = await knownHashes(this.o.url, this.o.token);
    this.prepared = true;
  }

  /** Runs until stop(). Call prepare() first to see its errors (a wrong token, the server away) at once. */
  start(): void {
    this.loop ??= (async () => {
      if (!this.prepared) await this.prepare();
      while (!this.stopping) {
        // Listing does not wait for the uploads it started: a file that becomes complete while others upload
        // is seen at the next poll, not after the whole batch. A listing that fails (the share or bucket away
        // for a moment) is tried again at the next poll.
        const batch = this.scanOnce().catch((err: Error) => this.o.onError?.(err));
        this.batches.add(batch);
        void batch.finally(() => this.batches.delete(batch));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.o.pollMs ?? 1000);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await Promise.all(this.batches);
    })();
  }

  /** Resolves once the loop has stopped (uploads under way finish; queued ones wait for the next run). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.loop;
  }

  /**
   * One listing: queues every file that is complete and neither handled nor queued already, and resolves once
   * those are handled. At most `concurrency` uploads run at once, across listings.
   */
  async scanOnce(): Promise<void> {
    const now = Date.now();
    const entries = await this.o.source.list();
    const handled: Promise<void>[] = [];
    for (const e of entries) {
      if (this.done.get(e.rel) === e.version || this.queued.has(e.rel)) continue;
      if ((this.retryAt.get(e.rel) ?? 0) > now) continue;
      const before = this.lastSeen.get(e.rel);
      this.lastSeen.set(e.rel, e.version);
      const complete =
        this.o.source.atomic || (before === e.version && now - e.modifiedMs >= (this.o.settleMs ?? 2000));
      if (!complete) continue;
      this.queued.add(e.rel);
      handled.push(new Promise<void>((resolve) => this.waiting.push({ entry: e, resolve })));
    }
    this.pump();
    await Promise.all(handled);
  }

  private pump(): void {
    while (this.active < Math.max(1, this.o.concurrency ?? 2) && this.waiting.length > 0) {
      const { entry, resolve } = this.waiting.shift()!;
      if (this.stopping) {
        this.queued.delete(entry.rel);
        resolve();
        continue;
      }
      this.active++;
      void this.handle(entry)
        .catch((err: Error) => this.o.onError?.(err))
        .finally(() => {
          this.active--;
          this.queued.delete(entry.rel);
          resolve();
          this.pump();
        });
    }
  }

  private async handle(e: WatchedEntry): Promise<void> {
    const event: WatchEvent = {
      kind: 'failed',
      rel: e.rel,
      bundle: this.o.pattern.bundleOf(e.rel),
      sha256: null,
      imageId: null,
      status: null,
      reason: null,
      modifiedMs: e.modifiedMs,
      at: 0,
    };
    if (event.bundle === null) {
      event.kind = 'rejected';
      event.reason = `the path does not fit the bundle pattern ${this.o.pattern.source}`;
    } else {
      let bytes: Uint8Array | null = null;
      try {
        bytes = await this.o.source.read(e.rel);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.lastSeen.delete(e.rel); // moved away meanwhile: nothing to do
          return;
        }
        event.reason = `reading it failed: ${(err as Error).message}`;
      }
      if (bytes) await this.upload(event, event.bundle, bytes);
    }
    await this.record(e, event);
  }

  /** Sends the bytes unless the server has them; the outcome goes into `event`. */
  private async upload(event: WatchEvent, bundle: string, bytes: Uint8Array): Promise<void> {
    event.sha256 = createHash('sha256').update(bytes).digest('hex');
    if (this.known.has(event.sha256)) {
      event.kind = 'duplicate';
      return;
    }
    const r = await uploadTiff(this.o.url, this.o.token, {
      bundle,
      name: event.rel.split('/').pop()!,
      bytes,
    });
    event.kind = r.kind;
    if (r.kind === 'imported' || r.kind === 'duplicate') {
      event.imageId = r.imageId;
      if (r.kind === 'imported') event.reason = r.outsideBounds;
      this.known.add(event.sha256);
    } else {
      event.reason = r.reason;
      if (r.kind === 'rejected') event.status = r.status;
    }
  }

  /** Journals a file's outcome (a failure is tried again later instead) and reports it. */
  private async record(e: WatchedEntry, event: WatchEvent): Promise<void> {
    event.at = Date.now();
    if (event.kind === 'failed') this.retryAt.set(e.rel, event.at + (this.o.retryMs ?? 10_000));
    else {
      this.done.set(e.rel, e.version);
      this.retryAt.delete(e.rel);
      const line: Journaled = {
        rel: e.rel,
        version: e.version,
        kind: event.kind,
        sha256: event.sha256,
        reason: event.reason,
      };
      await mkdir(path.dirname(this.o.statePath), { recursive: true });
      await appendFile(this.o.statePath, `${JSON.stringify(line)}\n`);
    }
    this.o.onEvent?.(event);
  }
}
