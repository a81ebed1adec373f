import type { AuthUser } from '../http/context.ts';

/**
 * Live sessions by token hash, remembered for a moment so that a busy expert's requests (a vote and the
 * next image every few seconds; 50 of them in a burst) do not each pay a session lookup. This process
 * forgets a session the moment it ends one (sign-out, a user disabled, demoted or given a new password:
 * auth.service, users.service), so here a revocation takes effect at once. The TTL bounds what this
 * process cannot see: a session ended by another API process, or by hand in the database, stays valid
 * here for at most `ttlMs`. Unknown tokens are never remembered, so guessing costs a lookup each time.
 */
export class SessionCache {
  readonly #entries = new Map<string, { user: AuthUser; until: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(opts: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? SESSION_CACHE_TTL_MS;
    this.#now = opts.now ?? Date.now;
  }

  get(tokenHash: string): AuthUser | undefined {
    const entry = this.#entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.until > this.#now()) return entry.user;
    this.#entries.delete(tokenHash);
    return undefined;
  }

  /** Remember a session just read from the database, never past its own expiry. */
  remember(tokenHash: string, user: AuthUser, expiresAt: Date): void {
    const now = this.#now();
    if (this.#entries.size >= SWEEP_AT) {
      for (const [hash, e] of this.#entries) if (e.until <= now) this.#entries.delete(hash);
    }
    this.#entries.set(tokenHash, { user, until: Math.min(now + this.#ttlMs, expiresAt.getTime()) });
  }

  forgetSession(sessionId: string): void {
    for (const [hash, e] of this.#entries) if (e.user.sessionId === sessionId) this.#entries.delete(hash);
  }

  forgetUser(userId: string): void {
    for (const [hash, e] of this.#entries) if (e.user.id === userId) this.#entries.delete(hash);
  }
}

/** One second: invisible to people, and at 50 busy experts it saves nearly every session lookup. */
export const SESSION_CACHE_TTL_MS = 1000;
/** Expired entries are swept when the cache reaches this size (then it holds live sessions only). */
const SWEEP_AT = 1000;
