import { sql, type Selectable, type Transaction } from 'kysely';
import type { DB, Exec, JobStatus, JobsTable } from '../db/schema.ts';
import { JOB_PAYLOADS, type JobKind, type PayloadInput } from './payloads.ts';

/**
 * The job queue in PostgreSQL, after graphile-worker: one table, a claim in one statement with
 * `for update skip locked`, retry backoff and `last_error` computed in SQL, and a sweep that frees the
 * jobs of runners that stopped heartbeating. Every write of a running job is guarded by
 * `locked_by = <this runner>`: a runner that was swept (it looked dead) and comes back cannot overwrite
 * the job another runner has since claimed.
 */

/** Kinds that never run two at a time (a second training waits in the queue until the first ends). */
export const EXCLUSIVE_KINDS: readonly JobKind[] = ['train'];

const COLUMNS = [
  'id',
  'kind',
  'payload',
  'status',
  'progress',
  'message',
  'attempts',
  'max_attempts',
  'run_at',
  'locked_by',
  'locked_at',
  'last_error',
  'result',
  'created_by',
  'created_at',
  'started_at',
  'finished_at',
  'key',
] as const;

/** A job as stored (the table's select type: Kysely infers every read from it, no casts). */
export type JobRow = Selectable<JobsTable>;

export interface EnqueueOptions {
  createdBy?: string | null;
  /** At most one queued job per key: a second enqueue with the same key returns null. */
  key?: string;
  maxAttempts?: number;
  /** Delay before the job may run. */
  delaySeconds?: number;
}

/**
 * Enqueue a job, validating its payload with the kind's schema (so a bad payload fails here, at the
 * producer, not later in a runner). Pass the caller's transaction to enqueue atomically with its other
 * writes. Returns null when `key` is given and a job with that key is already queued.
 */
export async function enqueue<K extends JobKind>(
  db: Exec,
  kind: K,
  payload: PayloadInput<K>,
  opts: EnqueueOptions = {},
): Promise<{ id: string } | null> {
  const parsed = JOB_PAYLOADS[kind].parse(payload);
  const row = await db
    .insertInto('jobs')
    .values({
      kind,
      payload: JSON.stringify(parsed),
      created_by: opts.createdBy ?? null,
      key: opts.key ?? null,
      max_attempts: opts.maxAttempts ?? 3,
      run_at: sql<Date>`now() + make_interval(secs => ${opts.delaySeconds ?? 0})`,
    })
    // The partial unique index (key) where status = 'queued' makes this the debounce. The predicate is a
    // literal: PostgreSQL must prove it implies the index's to infer the arbiter, which a parameter defeats.
    .onConflict((oc) =>
      oc
        .column('key')
        .where(sql<boolean>`status = 'queued'`)
        .doNothing(),
    )
    .returning('id')
    .executeTakeFirst();
  return row ? { id: row.id } : null;
}

/**
 * Claim the next runnable job for `workerId` in ONE statement: the subquery picks the oldest queued job
 * whose time has come and locks it, skipping rows another runner has locked; the update marks it
 * running. Two runners can therefore never claim the same job. Exclusive kinds (training) are skipped
 * while one of them runs. Returns undefined when nothing is runnable.
 */
export async function claim(
  db: Exec,
  workerId: string,
  kinds?: readonly string[],
): Promise<JobRow | undefined> {
  const kindFilter = kinds ? sql`and j.kind in (${sql.join(kinds)})` : sql``;
  const exclusive = sql.join(EXCLUSIVE_KINDS);
  const r = await sql<JobRow>`
    update jobs set
      status = 'running',
      locked_by = ${workerId},
      locked_at = now(),
      attempts = attempts + 1,
      started_at = coalesce(started_at, now()),
      message = case when attempts > 0 then 'retrying (attempt ' || (attempts + 1) || ')' else 'started' end
    where id = (
      select j.id from jobs j
      where j.status = 'queued' and j.run_at <= now() ${kindFilter}
        and (j.kind not in (${exclusive})
             or not exists (select 1 from jobs r where r.kind = j.kind and r.status = 'running'))
      order by j.run_at, j.id
      for update skip locked
      limit 1
    )
    returning ${sql.join(COLUMNS.map((c) => sql.ref(c)))}`.execute(db);
  return r.rows[0];
}

/**
 * Heartbeat and progress of a running job. Returns false when this runner no longer holds the job (it was
 * swept as dead and maybe claimed by another): the caller must then abandon its work without writing.
 */
export async function heartbeat(
  db: Exec,
  id: string,
  workerId: string,
  progress?: { progress: number; message: string },
): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({
      locked_at: sql<Date>`now()`,
      ...(progress
        ? { progress: Math.max(0, Math.min(1, progress.progress)), message: progress.message.slice(0, 500) }
        : {}),
    })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Mark the job succeeded with its result. False when this runner no longer holds it. */
export async function succeed(db: Exec, id: string, workerId: string, result: unknown): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({
      status: 'succeeded',
      progress: 1,
      message: 'done',
      result: JSON.stringify(result ?? null),
      locked_by: null,
      locked_at: null,
      finished_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Record a failure. While attempts remain the job goes back to the queue with exponential backoff
 * computed in SQL (e^attempts seconds, capped at 10 minutes: 3 s, 7 s, 20 s, …); otherwise it fails for good.
 * `permanent` (e.g. an invalid payload, which no retry can fix) fails it at once.
 */
export async function fail(
  db: Exec,
  id: string,
  workerId: string,
  error: string,
  opts: { permanent?: boolean } = {},
): Promise<void> {
  const permanent = opts.permanent ?? false;
  await sql`
    update jobs set
      status = case when attempts < max_attempts and not ${permanent} then 'queued' else 'failed' end,
      run_at = case when attempts < max_attempts and not ${permanent}
                    then now() + make_interval(secs => least(600, exp(attempts))) else run_at end,
      finished_at = case when attempts < max_attempts and not ${permanent} then null else now() end,
      message = case when attempts < max_attempts and not ${permanent}
                     then 'failed; will retry' else 'failed' end,
      last_error = ${error.slice(0, 4000)},
      locked_by = null,
      locked_at = null
    where id = ${id} and locked_by = ${workerId} and status = 'running'`.execute(db);
}

/**
 * Give a job back untouched (the runner is stopping): it is queued again at once and the attempt it
 * used is not counted, since nothing failed.
 */
export async function release(db: Exec, id: string, workerId: string, why: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({
      status: 'queued',
      attempts: sql<number>`greatest(0, attempts - 1)`,
      message: why.slice(0, 500),
      locked_by: null,
      locked_at: null,
      run_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .execute();
}

/**
 * Free the jobs of runners that died: running jobs whose heartbeat (`locked_at`) is older than
 * `timeoutSeconds` go back to the queue (or fail, when that was their last attempt), with the reason in
 * `last_error`. Safe to run from every runner at once: each row is updated by one of them.
 */
export async function sweep(db: Exec, timeoutSeconds: number): Promise<number> {
  const r = await sql`
    update jobs set
      status = case when attempts < max_attempts then 'queued' else 'failed' end,
      finished_at = case when attempts < max_attempts then null else now() end,
      message = case when attempts < max_attempts then 'runner stopped; will retry' else 'failed' end,
      last_error = 'runner ' || coalesce(locked_by, '?') || ' stopped heartbeating (last at ' ||
                   to_char(locked_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')',
      locked_by = null,
      locked_at = null,
      run_at = now()
    where status = 'running' and locked_at < now() - make_interval(secs => ${timeoutSeconds})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function findJob(db: Exec, id: string): Promise<JobRow | undefined> {
  return (await db.selectFrom('jobs').select(COLUMNS).where('id', '=', id).executeTakeFirst()) as
    JobRow | undefined;
}

/** The most recent jobs, newest first (optionally of one kind or status). */
export async function recentJobs(
  db: Exec,
  opts: { limit?: number; kind?: string; status?: JobStatus } = {},
): Promise<JobRow[]> {
  let q = db.selectFrom('jobs').select(COLUMNS);
  if (opts.kind) q = q.where('kind', '=', opts.kind);
  if (opts.status) q = q.where('status', '=', opts.status);
  return q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(opts.limit ?? 50)
    .execute();
}

/** The newest job of these kinds (by id): when it was enqueued, where it stands, when it ended. */
export function latestJobOf(db: Exec, kinds: readonly JobKind[]) {
  return db
    .selectFrom('jobs')
    .select(['status', 'created_at', 'finished_at'])
    .where('kind', 'in', kinds)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Whether a job of these kinds is queued or running. */
export async function anyActive(db: Exec, kinds: readonly JobKind[]): Promise<boolean> {
  const row = await db
    .selectFrom('jobs')
    .select('id')
    .where('kind', 'in', kinds)
    .where('status', 'in', ['queued', 'running'])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Lock the job row inside a handler's final transaction and check that this runner still holds it. A
 * runner that was swept as dead (and whose job another runner may now run) must not commit its results:
 * with this check first, its transaction writes nothing.
 */
export async function stillHeld(tx: Transaction<DB>, id: string, workerId: string): Promise<boolean> {
  const row = await tx
    .selectFrom('jobs')
    .select('id')
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .forUpdate()
    .executeTakeFirst();
  return row !== undefined;
}
