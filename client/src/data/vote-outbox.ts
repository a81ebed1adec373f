/**
 * Votes leave the labeling page through this outbox, so that "Enter" moves on at once and no vote is ever
 * silently dropped. Each vote is kept (in sessionStorage, so a reload or a trip to the login page keeps it)
 * until the server has acknowledged it:
 * - network failure or 5xx → retried with backoff (1 s, 2 s, 4 s … 30 s), state "retrying";
 * - 401 → "waiting for sign-in": paused until the same user signs in again, then sent;
 * - any other 4xx → "failed" with the server's sentence; the user can retry or discard it.
 * Sending the same vote twice is harmless: `PUT …/votes/me` replaces the caller's current vote.
 */
import { ApiError, NetworkError, describeError } from './api-client.ts';
import type { MyVoteDto, VoteInput } from '../../../lib/api-types/votes.ts';

export type OutboxState = 'queued' | 'sending' | 'retrying' | 'waiting-login' | 'failed' | 'sent';

export interface OutboxEntry {
  id: string;
  imageId: string;
  imageName: string;
  username: string;
  vote: VoteInput;
  state: OutboxState;
  attempts: number;
  error: string | null;
  nextAttemptAt: number | null;
  sentAt: number | null;
}

export type SendVote = (imageId: string, vote: VoteInput) => Promise<MyVoteDto>;

const STORAGE_KEY = 'platina.outbox';
const MAX_BACKOFF_MS = 30_000;
/** Acknowledged votes stay listed for a while so the user sees them land. */
const KEEP_SENT = 20;

export class VoteOutbox extends EventTarget {
  private entries: OutboxEntry[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private username: string | null = null;
  private counter = 0;

  constructor(
    private readonly send: SendVote,
    private readonly storage: Storage | null = typeof sessionStorage === 'undefined' ? null : sessionStorage,
  ) {
    super();
    this.load();
  }

  get all(): readonly OutboxEntry[] {
    return this.entries;
  }

  /** Votes not yet acknowledged by the server (for the current user when given). */
  unsent(username?: string): OutboxEntry[] {
    return this.entries.filter((e) => e.state !== 'sent' && (!username || e.username === username));
  }

  /** The user whose votes may be sent now (null while signed out: everything waits). */
  setUser(username: string | null): void {
    this.username = username;
    for (const e of this.entries) {
      if (e.state === 'waiting-login' && e.username === username) {
        e.state = 'queued';
        e.nextAttemptAt = null;
      }
    }
    this.changed();
    this.kick();
  }

  enqueue(imageId: string, imageName: string, vote: VoteInput): OutboxEntry {
    if (!this.username) throw new Error('Sign in before voting.');
    // A newer vote on the same image replaces one that has not left yet.
    const waiting = this.entries.find(
      (e) =>
        e.imageId === imageId && e.username === this.username && e.state !== 'sending' && e.state !== 'sent',
    );
    const entry: OutboxEntry = waiting ?? {
      id: `${Date.now().toString(36)}-${(this.counter++).toString(36)}`,
      imageId,
      imageName,
      username: this.username,
      vote,
      state: 'queued',
      attempts: 0,
      error: null,
      nextAttemptAt: null,
      sentAt: null,
    };
    Object.assign(entry, { vote, state: 'queued', error: null, nextAttemptAt: null });
    if (!waiting) this.entries.push(entry);
    this.changed();
    this.kick();
    return entry;
  }

  retry(id: string): void {
    const e = this.entries.find((x) => x.id === id);
    if (!e || e.state === 'sent' || e.state === 'sending') return;
    Object.assign(e, { state: 'queued', nextAttemptAt: null });
    this.changed();
    this.kick();
  }

  retryAll(): void {
    for (const e of this.entries) if (e.state === 'retrying' || e.state === 'failed') this.retry(e.id);
  }

  discard(id: string): void {
    this.entries = this.entries.filter((e) => e.id !== id);
    this.changed();
  }

  /** Resolves when every vote of the current user is acknowledged, or rejects with the first failure. */
  async drain(imageId?: string): Promise<void> {
    for (;;) {
      const open = this.unsent(this.username ?? undefined).filter((e) => !imageId || e.imageId === imageId);
      if (open.length === 0) return;
      const failed = open.find((e) => e.state === 'failed' || e.state === 'waiting-login');
      if (failed) throw new Error(failed.error ?? 'A vote could not be sent.');
      await new Promise<void>((r) => this.addEventListener('change', () => r(), { once: true }));
    }
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running || !this.username) return;
    this.running = true;
    try {
      for (;;) {
        const now = Date.now();
        const due = this.entries.find(
          (e) =>
            e.username === this.username &&
            (e.state === 'queued' || (e.state === 'retrying' && (e.nextAttemptAt ?? 0) <= now)),
        );
        if (!due) break;
        await this.sendOne(due);
      }
    } finally {
      this.running = false;
    }
    const next = this.entries
      .filter((e) => e.state === 'retrying' && e.username === this.username)
      .map((e) => e.nextAttemptAt ?? 0)
      .sort((a, b) => a - b)[0];
    if (next !== undefined) this.timer = setTimeout(() => this.kick(), Math.max(50, next - Date.now()));
  }

  private async sendOne(e: OutboxEntry): Promise<void> {
    e.state = 'sending';
    e.attempts++;
    const vote = e.vote;
    this.changed();
    try {
      await this.send(e.imageId, vote);
      // A newer vote may have replaced this one while it was in flight: send that too.
      if (e.vote !== vote) {
        e.state = 'queued';
      } else {
        Object.assign(e, { state: 'sent', error: null, nextAttemptAt: null, sentAt: Date.now() });
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        Object.assign(e, {
          state: 'waiting-login',
          error: 'Waiting for you to sign in again; the vote is kept.',
        });
        this.username = null;
      } else if (
        err instanceof NetworkError ||
        (err instanceof ApiError && (err.status >= 500 || err.status === 429))
      ) {
        const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(e.attempts - 1, 5));
        Object.assign(e, { state: 'retrying', error: describeError(err), nextAttemptAt: Date.now() + delay });
      } else {
        Object.assign(e, { state: 'failed', error: describeError(err) });
      }
    }
    this.trimSent();
    this.changed();
  }

  private trimSent(): void {
    const sent = this.entries.filter((e) => e.state === 'sent');
    if (sent.length > KEEP_SENT) {
      const drop = new Set(sent.slice(0, sent.length - KEEP_SENT));
      this.entries = this.entries.filter((e) => !drop.has(e));
    }
  }

  private changed(): void {
    this.save();
    this.dispatchEvent(new Event('change'));
  }

  private save(): void {
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.entries.filter((e) => e.state !== 'sent')));
    } catch {
      // Storage full or denied: the votes stay in memory and are still sent.
    }
  }

  private load(): void {
    try {
      const raw = this.storage?.getItem(STORAGE_KEY);
      if (!raw) return;
      this.entries = (JSON.parse(raw) as OutboxEntry[]).map((e) => ({
        ...e,
        // Something "sending" when the page went away may or may not have arrived: send it again (idempotent).
        state: e.state === 'sending' ? 'queued' : e.state,
      }));
    } catch {
      this.entries = [];
    }
  }
}
