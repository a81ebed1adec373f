/**
 * Sign-in throttling: slow down, never lock out. The policy and why, against OWASP's Authentication and
 * Credential Stuffing Prevention cheat sheets, is in docs/security.md; in short:
 *
 * - An attempt is counted *before* its password is verified, in the same synchronous step as the check
 *   (`take`), so N concurrent guesses cannot all pass a check that only counted finished failures.
 * - Each key may fail `free` times within `windowMs`; after that each further attempt must wait a delay
 *   that doubles from `baseDelayMs` up to `maxDelayMs` after the previous one. The wait is never longer
 *   than `maxDelayMs`: guessing stays slow, a user is never shut out for a quarter of an hour.
 * - A correct password gives its attempt back (`refund`); only failures stay counted.
 *
 * In memory, per API process: with several API instances each throttles on its own, which still bounds
 * guessing to instances × rate.
 */
export interface ThrottlePolicy {
  /** Failures within the window that cost no delay. */
  free: number;
  windowMs: number;
  /** Delay after the first failure beyond `free`; doubles with each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A taken attempt: give it back with `refund` when the password was right. */
export interface Attempt {
  key: string;
  at: number;
}

/**
 * Keys kept at most. Entries expire with the window and are swept when the map passes this size; beyond
 * it the oldest keys are forgotten (an attacker spraying that many distinct usernames within one window
 * could reset a key's count, at 100 000 requests per reset, each itself throttled by address).
 */
const MAX_KEYS = 100_000;

export class Throttle {
  private readonly attempts = new Map<string, number[]>();
  /** `clock`: the time source (tests pass a fixed clock, so no assertion depends on how loaded the machine is). */
  constructor(
    private readonly policy: ThrottlePolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Milliseconds until `key` may try again (0: now). */
  waitMs(key: string, now = this.clock()): number {
    const recent = this.recent(key, now);
    const over = recent.length - this.policy.free;
    if (over < 0) return 0;
    const delay = Math.min(this.policy.baseDelayMs * 2 ** over, this.policy.maxDelayMs);
    return Math.max(0, recent[recent.length - 1]! + delay - now);
  }

  /** Count an attempt of `key` now (call right after `waitMs` said 0, with no await between). */
  take(key: string, now = this.clock()): Attempt {
    const recent = this.recent(key, now);
    recent.push(now);
    this.attempts.set(key, recent);
    if (this.attempts.size > MAX_KEYS) this.sweep(now);
    return { key, at: now };
  }

  /** Give back an attempt that succeeded. */
  refund(attempt: Attempt): void {
    const list = this.attempts.get(attempt.key);
    const i = list?.lastIndexOf(attempt.at) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    if (list?.length === 0) this.attempts.delete(attempt.key);
  }

  /** Forget every failure of `key` (a trusted device that proved its password). */
  reset(key: string): void {
    this.attempts.delete(key);
  }

  private recent(key: string, now: number): number[] {
    const list = this.attempts.get(key);
    if (!list) return [];
    const from = now - this.policy.windowMs;
    const kept = list.filter((t) => t > from);
    if (kept.length === 0) this.attempts.delete(key);
    return kept;
  }

  private sweep(now: number): void {
    for (const key of this.attempts.keys()) this.recent(key, now);
    for (const key of this.attempts.keys()) {
      if (this.attempts.size <= MAX_KEYS) break;
      this.attempts.delete(key); // oldest first: a Map iterates in insertion order
    }
  }
}

const MINUTE = 60_000;

/**
 * The three throttles of a sign-in (one set per API process). An attempt from a device that signed in to
 * the account before (it presents the device token that sign-in gave it) counts only against that device:
 * what others try against the account or from the same address never slows it. Any other attempt counts
 * against the username and against the client address.
 */
export class SignInThrottle {
  /** Per username: 5 failures free per 15 min, then 1, 2, 4 … up to 60 s between attempts. */
  readonly byUser: Throttle;
  /**
   * Per client address, against one source spraying many usernames: 30 failures free per 15 min (an
   * office behind one NAT mistypes too), then the same slowdown. It never slows a known device, so an
   * attacker behind a shared address can only slow other people's *first* sign-in on a new device.
   */
  readonly byAddress: Throttle;
  /** Per known device of an account. */
  readonly byDevice: Throttle;

  constructor(readonly now: () => number = Date.now) {
    const clock = now;
    this.byUser = new Throttle(
      { free: 5, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: MINUTE },
      clock,
    );
    this.byAddress = new Throttle(
      { free: 30, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: MINUTE },
      clock,
    );
    this.byDevice = new Throttle(
      { free: 5, windowMs: 15 * MINUTE, baseDelayMs: 1000, maxDelayMs: MINUTE },
      clock,
    );
  }
}
