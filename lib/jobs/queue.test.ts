import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pino from 'pino';
import { openPostgres, type Database } from '../db/connect.ts';
import { openTestDatabase } from '../../test/databases.ts';
import * as queue from './queue.ts';
import { JobRunner, type JobHandler } from './worker.ts';
import { ScorePayload } from './payloads.ts';

const logger = pino({ level: 'silent' });

/** A handler for `score` jobs that records what ran; the tests drive it through the real queue. */
function recorder(run: JobHandler['run'] = async () => ({ ok: true })) {
  const ran: string[] = [];
  const handler: JobHandler = {
    schema: ScorePayload,
    run: async (ctx) => {
      ran.push(ctx.job.id);
      return run(ctx);
    },
  };
  return { ran, handler };
}

describe('job queue', () => {
  let database: Database;
  before(async () => {
    database = await openTestDatabase();
  });
  after(() => database.close());
  const clear = () => sql`delete from jobs`.execute(database.db);

  test('a job runs once: progress and result are stored and it ends succeeded', async () => {
    await clear();
    const seen: number[] = [];
    const { ran, handler } = recorder(async (ctx) => {
      await ctx.progress(0.5, 'half way');
      const mid = await queue.findJob(database.db, ctx.job.id);
      seen.push(mid!.progress);
      assert.equal(mid!.status, 'running');
      assert.equal(mid!.message, 'half way');
      return { scored: 3 };
    });
    const job = await queue.enqueue(database.db, 'score', {});
    const runner = new JobRunner({ db: database.db, handlers: { score: handler }, logger });
    assert.equal((await runner.runOnce())?.id, job!.id);
    assert.equal(await runner.runOnce(), undefined);
    assert.deepEqual(ran, [job!.id]);
    assert.deepEqual(seen, [0.5]);
    const done = await queue.findJob(database.db, job!.id);
    assert.equal(done!.status, 'succeeded');
    assert.equal(done!.progress, 1);
    assert.deepEqual(done!.result, { scored: 3 });
    assert.equal(done!.attempts, 1);
    assert.ok(done!.started_at && done!.finished_at);
    assert.equal(done!.locked_by, null);
  });

  test('a failing job is retried with backoff computed in SQL, then fails for good with its last error', async () => {
    await clear();
    const { ran, handler } = recorder(async () => {
      throw new Error(`boom ${ran.length}`);
    });
    const job = await queue.enqueue(database.db, 'score', {}, { maxAttempts: 2 });
    const runner = new JobRunner({ db: database.db, handlers: { score: handler }, logger });
    await runner.runOnce();
    const first = await queue.findJob(database.db, job!.id);
    assert.equal(first!.status, 'queued');
    assert.equal(first!.last_error, 'boom 1');
    assert.equal(first!.attempts, 1);
    const delay = (first!.run_at.getTime() - Date.now()) / 1000;
    assert.ok(delay > 1 && delay <= Math.E + 0.5, `backoff e^1 s, got ${delay}`);
    assert.equal(await runner.runOnce(), undefined, 'not runnable before its backoff');
    await sql`update jobs set run_at = now() where id = ${job!.id}`.execute(database.db);
    await runner.runOnce();
    const last = await queue.findJob(database.db, job!.id);
    assert.equal(last!.status, 'failed');
    assert.equal(last!.last_error, 'boom 2');
    assert.equal(last!.attempts, 2);
    assert.ok(last!.finished_at);
  });

  test('an invalid payload fails at once without running the handler', async () => {
    await clear();
    const { ran, handler } = recorder();
    const r = await database.db
      .insertInto('jobs')
      .values({ kind: 'score', payload: JSON.stringify({ modelVersion: 'latest' }) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await new JobRunner({ db: database.db, handlers: { score: handler }, logger }).runOnce();
    const job = await queue.findJob(database.db, r.id);
    assert.equal(job!.status, 'failed');
    assert.match(job!.last_error!, /^invalid payload: modelVersion: /);
    assert.deepEqual(ran, []);
  });

  test('enqueue refuses a payload its schema rejects', async () => {
    await assert.rejects(queue.enqueue(database.db, 'embed', { imageIds: [] }), /too_small|>=1|at least/i);
  });

  test('a key keeps at most one queued job; a running one does not block the next', async () => {
    await clear();
    const a = await queue.enqueue(database.db, 'score', {}, { key: 'retrain' });
    const b = await queue.enqueue(database.db, 'score', {}, { key: 'retrain' });
    assert.ok(a);
    assert.equal(b, null);
    await queue.claim(database.db, 'w1');
    const c = await queue.enqueue(database.db, 'score', {}, { key: 'retrain' });
    assert.ok(c, 'a queued job may follow the running one');
  });

  test('only one training runs at a time', async () => {
    await clear();
    await queue.enqueue(database.db, 'train', {});
    await queue.enqueue(database.db, 'train', {});
    const score = await queue.enqueue(database.db, 'score', {});
    const first = await queue.claim(database.db, 'w1');
    assert.equal(first!.kind, 'train');
    const second = await queue.claim(database.db, 'w2');
    assert.equal(second!.id, score!.id, 'the second training waits; other work goes ahead');
    assert.equal(await queue.claim(database.db, 'w2'), undefined);
  });

  test("a crashed runner's job is swept back to the queue and retried by another; the dead one cannot write", async () => {
    await clear();
    const job = await queue.enqueue(database.db, 'score', {});
    // Runner "dead" claims the job and then stops heartbeating (as if killed).
    const claimed = await queue.claim(database.db, 'dead');
    assert.equal(claimed!.id, job!.id);
    await sql`update jobs set locked_at = now() - interval '5 minutes' where id = ${job!.id}`.execute(
      database.db,
    );
    const { ran, handler } = recorder();
    const live = new JobRunner({ db: database.db, handlers: { score: handler }, logger, staleSeconds: 60 });
    assert.equal(await live.sweepNow(), 1);
    const swept = await queue.findJob(database.db, job!.id);
    assert.equal(swept!.status, 'queued');
    assert.match(swept!.last_error!, /^runner dead stopped heartbeating/);
    await live.runOnce();
    assert.deepEqual(ran, [job!.id]);
    const done = await queue.findJob(database.db, job!.id);
    assert.equal(done!.status, 'succeeded');
    assert.equal(done!.attempts, 2);
    // The dead runner wakes up and tries to finish: refused.
    assert.equal(await queue.succeed(database.db, job!.id, 'dead', { stale: true }), false);
    assert.equal(await queue.heartbeat(database.db, job!.id, 'dead'), false);
    assert.deepEqual((await queue.findJob(database.db, job!.id))!.result, { ok: true });
  });

  test('stop() abandons the current job cleanly: it is queued again and the attempt is not counted', async () => {
    await clear();
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const { handler } = recorder(async (ctx) => {
      entered();
      for (;;) {
        await new Promise((r) => setTimeout(r, 20));
        await ctx.progress(0.1, 'working'); // throws JobAbandoned once the runner stops
      }
    });
    const job = await queue.enqueue(database.db, 'score', {});
    const runner = new JobRunner({ db: database.db, handlers: { score: handler }, logger, pollMs: 50 });
    runner.start();
    await inside;
    await runner.stop(100);
    const after = await queue.findJob(database.db, job!.id);
    assert.equal(after!.status, 'queued');
    assert.equal(after!.attempts, 0);
    assert.equal(after!.locked_by, null);
    assert.equal(after!.message, 'runner stopped; will resume');
  });

  test('a started runner wakes on wake() without waiting for its poll', async () => {
    await clear();
    const { ran, handler } = recorder();
    const runner = new JobRunner({ db: database.db, handlers: { score: handler }, logger, pollMs: 60_000 });
    runner.start();
    await new Promise((r) => setTimeout(r, 100));
    const job = await queue.enqueue(database.db, 'score', {});
    runner.wake();
    const t0 = Date.now();
    while (ran.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    assert.deepEqual(ran, [job!.id]);
  });

  test('two runners draining one queue concurrently never run a job twice', async () => {
    await clear();
    const n = 120;
    for (let i = 0; i < n; i++) await queue.enqueue(database.db, 'score', {});
    // On PostgreSQL each runner has its own connection pool, as two processes would.
    const second: Database | null = database.url ? openPostgres(database.url, 4) : null;
    const executions = new Map<string, number>();
    const handler: JobHandler = {
      schema: ScorePayload,
      run: async (ctx) => {
        executions.set(ctx.job.id, (executions.get(ctx.job.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        return null;
      },
    };
    const a = new JobRunner({ db: database.db, handlers: { score: handler }, logger, workerId: 'a' });
    const b = new JobRunner({
      db: (second ?? database).db,
      handlers: { score: handler },
      logger,
      workerId: 'b',
    });
    const [ranA, ranB] = await Promise.all([a.drain(), b.drain()]);
    await second?.close();
    assert.equal(executions.size, n);
    assert.ok(
      [...executions.values()].every((c) => c === 1),
      'some job ran twice',
    );
    assert.equal(ranA.length + ranB.length, n);
    const rows = await database.db
      .selectFrom('jobs')
      .select((eb) => [eb.fn.countAll<string>().as('n'), 'status'])
      .groupBy('status')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.status, Number(r.n)]),
      [['succeeded', n]],
    );
    if (database.url) assert.ok(ranA.length > 0 && ranB.length > 0, 'both runners took work');
  });

  test('stillHeld is false for a job this runner no longer holds', async () => {
    await clear();
    const job = await queue.enqueue(database.db, 'score', {});
    await queue.claim(database.db, 'w1');
    assert.equal(await database.db.transaction().execute((tx) => queue.stillHeld(tx, job!.id, 'w1')), true);
    assert.equal(await database.db.transaction().execute((tx) => queue.stillHeld(tx, job!.id, 'w2')), false);
  });
});
