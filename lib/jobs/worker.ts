import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { DB } from '../db/schema.ts';
import * as queue from './queue.ts';
import type { JobRow } from './queue.ts';

/** Thrown into a handler (from `progress`) when the runner stops or lost the job: stop without writing. */
export class JobAbandoned extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'JobAbandoned';
  }
}

/** A failure no retry can fix (e.g. too few labels): the job fails at once, with this message. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export interface JobContext<P> {
  job: JobRow;
  /** The payload, validated with the kind's schema. */
  payload: P;
  /** The runner's id, for `queue.stillHeld` in the handler's final transaction. */
  workerId: string;
  /**
   * Report progress 0..1 (also a heartbeat). Throws JobAbandoned when the runner is stopping or no longer
   * holds the job, so handlers stop at their next report.
   */
  progress(progress: number, message: string): Promise<void>;
  signal: AbortSignal;
  log: Logger;
}

export interface JobHandler<P = any> {
  /** The schema the producer enqueued with (lib/jobs/payloads.ts): payloads are `unknown` until parsed. */
  schema: ZodType<P>;
  run(ctx: JobContext<P>): Promise<unknown>;
}

export interface JobRunnerOptions {
  db: Kysely<DB>;
  handlers: Record<string, JobHandler>;
  logger: Logger;
  workerId?: string;
  /** Polling fallback between wake-ups (default 2 s). */
  pollMs?: number;
  /** Heartbeat of a running job (default 5 s). */
  heartbeatMs?: number;
  /** A running job whose heartbeat is older than this is swept back to the queue (default 60 s). */
  staleSeconds?: number;
  /** PostgreSQL URL for LISTEN platina_jobs; absent with the embedded database (wake() is used there). */
  listenUrl?: string;
  /** Called before each claim when the loop runs (the model runner schedules retraining there). */
  beforeClaim?: () => Promise<void>;
}

/**
 * The options with their timing defaults. `??` per field, not a spread under the defaults: a caller passing
 * `pollMs: undefined` (an unset env value, say) would otherwise turn the poll sleep into `setTimeout(undefined)`,
 * a hot loop of claims.
 */
export function withTimingDefaults(
  options: JobRunnerOptions,
): JobRunnerOptions & Required<Pick<JobRunnerOptions, 'pollMs' | 'heartbeatMs' | 'staleSeconds'>> {
  return {
    ...options,
    pollMs: options.pollMs ?? 2000,
    heartbeatMs: options.heartbeatMs ?? 5000,
    staleSeconds: options.staleSeconds ?? 60,
  };
}

/**
 * A job runner after graphile-worker: claims one job at a time, heartbeats while it works, retries
 * failures with backoff, sweeps jobs of dead runners, wakes on NOTIFY (PostgreSQL) or `wake()`
 * (in-process), polls as a fallback, and on stop() finishes or abandons the current job cleanly.
 * Tests call `runOnce()` to drain the queue deterministically.
 */
export class JobRunner {
  readonly workerId: string;
  private readonly o: Required<Omit<JobRunnerOptions, 'listenUrl' | 'beforeClaim' | 'workerId'>> &
    Pick<JobRunnerOptions, 'listenUrl' | 'beforeClaim'>;
  private stopping = false;
  private woken = false;
  private wakeSleep: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private current: { job: JobRow; controller: AbortController; done: Promise<void> } | null = null;
  private listener: pg.Client | null = null;
  private lastSweep = 0;

  constructor(options: JobRunnerOptions) {
    this.workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.o = withTimingDefaults(options);
  }

  /** Wake the loop now (a job was enqueued in this process). */
  wake(): void {
    this.woken = true;
    this.wakeSleep?.();
  }

  /** Sweep dead runners' jobs, then claim and run at most one job. Returns the job run, if any. */
  async runOnce(): Promise<JobRow | undefined> {
    await this.maybeSweep();
    const job = await queue.claim(this.o.db, this.workerId);
    if (!job) return undefined;
    const controller = new AbortController();
    const done = this.execute(job, controller);
    this.current = { job, controller, done };
    try {
      await done;
    } finally {
      this.current = null;
    }
    return job;
  }

  /** Run jobs until none is runnable (tests). */
  async drain(): Promise<JobRow[]> {
    const ran: JobRow[] = [];
    for (let job = await this.runOnce(); job; job = await this.runOnce()) ran.push(job);
    return ran;
  }

  /** Start the background loop (and LISTEN when a PostgreSQL URL was given). */
  start(): void {
    if (this.loopDone) return;
    if (this.o.listenUrl) void this.listen();
    this.loopDone = this.loop();
  }

  /**
   * Stop claiming; give the current job `graceMs` to finish, then abort it (it stops at its next progress
   * report) and hand it back to the queue untouched, so another runner or the next start retries it.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake();
    const current = this.current;
    if (current) {
      const finished = await Promise.race([
        current.done.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
      ]);
      if (!finished) {
        this.o.logger.warn({ job: current.job.id }, 'stopping: abandoning the current job');
        current.controller.abort();
        // The handler may be inside a long computation that cannot be interrupted: hand the job back now;
        // whatever it writes later is refused (every write checks that this runner still holds the job).
        await queue.release(this.o.db, current.job.id, this.workerId, 'runner stopped; will resume');
      }
    }
    await this.loopDone;
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => {});
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.o.beforeClaim?.();
        if (this.stopping) break;
        if (await this.runOnce()) continue;
      } catch (err) {
        this.o.logger.error({ err }, 'job runner loop');
      }
      await this.sleep(this.o.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = () => {
        this.wakeSleep = null;
        this.woken = false;
        done();
      };
    });
  }

  private async maybeSweep(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSweep < (this.o.staleSeconds * 1000) / 4) return;
    this.lastSweep = now;
    const n = await queue.sweep(this.o.db, this.o.staleSeconds);
    if (n > 0) this.o.logger.warn({ jobs: n }, 'swept jobs of runners that stopped heartbeating');
  }

  /** Force the next runOnce() to sweep (tests). */
  sweepNow(): Promise<number> {
    this.lastSweep = Date.now();
    return queue.sweep(this.o.db, this.o.staleSeconds);
  }

  private async execute(job: JobRow, controller: AbortController): Promise<void> {
    const { db, logger } = this.o;
    const log = logger.child({ job: job.id, kind: job.kind });
    const handler = this.o.handlers[job.kind];
    if (!handler) {
      await queue.fail(db, job.id, this.workerId, `no handler for job kind "${job.kind}"`, {
        permanent: true,
      });
      return;
    }
    const parsed = handler.schema.safeParse(job.payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      await queue.fail(
        db,
        job.id,
        this.workerId,
        `invalid payload: ${issue?.path.join('.') || 'payload'}: ${issue?.message}`,
        { permanent: true },
      );
      return;
    }
    let lost = false;
    const abandon = (why: string) => {
      if (!controller.signal.aborted) controller.abort(new JobAbandoned(why));
    };
    const beat = setInterval(() => {
      queue.heartbeat(db, job.id, this.workerId).then(
        (held) => {
          if (!held) {
            lost = true;
            abandon('this runner no longer holds the job');
          }
        },
        (err) => log.warn({ err }, 'heartbeat failed'),
      );
    }, this.o.heartbeatMs);
    beat.unref();
    let lastReport = 0;
    const ctx: JobContext<unknown> = {
      job,
      payload: parsed.data,
      workerId: this.workerId,
      signal: controller.signal,
      log,
      progress: async (progress, message) => {
        if (controller.signal.aborted) throw new JobAbandoned('the runner is stopping');
        const now = performance.now();
        if (now - lastReport < 200 && progress < 1) return; // at most 5 writes a second
        lastReport = now;
        if (!(await queue.heartbeat(db, job.id, this.workerId, { progress, message }))) {
          lost = true;
          abandon('this runner no longer holds the job');
          throw new JobAbandoned('this runner no longer holds the job');
        }
      },
    };
    const started = performance.now();
    try {
      const result = await handler.run(ctx);
      if (controller.signal.aborted) {
        if (!lost) await queue.release(db, job.id, this.workerId, 'runner stopped; will resume');
        return;
      }
      if (!(await queue.succeed(db, job.id, this.workerId, result)))
        log.warn('finished a job this runner no longer holds; its result is dropped');
      else log.info({ ms: Math.round(performance.now() - started) }, 'job succeeded');
    } catch (err) {
      if (err instanceof JobAbandoned || controller.signal.aborted) {
        log.warn({ why: (err as Error).message }, 'job abandoned');
        if (!lost) await queue.release(db, job.id, this.workerId, 'runner stopped; will resume');
        return;
      }
      log.error({ err }, 'job failed');
      await queue.fail(db, job.id, this.workerId, (err as Error)?.message ?? String(err), {
        permanent: err instanceof PermanentJobError,
      });
    } finally {
      clearInterval(beat);
    }
  }

  /** LISTEN platina_jobs on a dedicated connection; reconnects with backoff (polling covers the gap). */
  private async listen(delayMs = 1000): Promise<void> {
    if (this.stopping || !this.o.listenUrl) return;
    const client = new pg.Client({ connectionString: this.o.listenUrl });
    const retry = () => {
      if (this.listener !== client) return;
      this.listener = null;
      void client.end().catch(() => {});
      if (!this.stopping) setTimeout(() => void this.listen(Math.min(delayMs * 2, 30_000)), delayMs).unref();
    };
    client.on('error', (err) => {
      this.o.logger.warn({ err: err.message }, 'LISTEN connection lost; polling until it is back');
      retry();
    });
    client.on('notification', () => this.wake());
    this.listener = client;
    try {
      await client.connect();
      await client.query('LISTEN platina_jobs');
      if (this.stopping) await client.end();
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'cannot LISTEN; polling');
      retry();
    }
  }
}
