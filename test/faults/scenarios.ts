import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../lib/db/schema.ts';
import { openEmbedded, openPostgres, type Database } from '../../lib/db/connect.ts';
import { migrateToLatest } from '../../lib/db/migrate.ts';
import { encodeTiff } from '../../lib/imaging/tiff-write.ts';
import { buildImages, buildSignedInUsers, type FactoryUser } from '../factories/votes.ts';
import { tinyBackbone } from '../../model-runner/src/backbone/fixtures.ts';
import { BACKBONE_META, UNTRAINED } from '../../model-runner/src/backbone/resnet34.ts';
import { openTestDatabase } from '../databases.ts';
import {
  sleep,
  startApiProcess,
  startPrivatePostgres,
  startRunnerProcess,
  type ApiProcess,
} from './processes.ts';

/**
 * The fault suite's scenarios (issue 14), each with real processes: the API and the runner are child
 * processes killed with SIGKILL, PostgreSQL is a real server (a private one where it is restarted). Each
 * returns its row of the fault table; `api/src/process-faults.test.ts` asserts on the rows and
 * `bench/faults.bench.ts` reports them.
 */
export interface FaultRow {
  scenario: string;
  /** Writes the system acknowledged: votes answered 2xx, or the training job enqueued (202). */
  acknowledged: number;
  /** Acknowledged writes absent afterwards (votes not stored; a training job never finished). */
  missing: number;
  /**
   * Seconds from the fault to the end of the first acknowledged write begun once it had struck (the API
   * gone, the server back up); runner: from the kill to the retried job's success.
   */
  recoveredSeconds: number | null;
  /** The outage itself, which no recovery can beat: the killed API back and healthy, the server back up. */
  outageSeconds: number | null;
  /** Requests that failed (connection refused or reset, 5xx): not acknowledged, so allowed. */
  failed: number;
  note: string;
  /** Facts for the assertions (scenario-specific). */
  details: Record<string, unknown>;
}

export const EXPERTS = 50;
/** Enough images that no expert runs out: expert k's j-th vote goes to image ⌊(50 j + k) / 3⌋. */
const VOTES_EACH_MAX = 400;

interface Ack {
  comment: string;
  started: number;
  ended: number;
}

/**
 * 50 experts voting back to back through HTTP, each vote carrying a unique comment so every acknowledged
 * vote can be found again. A failed request (the API gone, a 5xx) is counted and the expert moves on to its
 * next image after 100 ms. `url()` is read per request: a restarted API listens on another port.
 */
export function startVoteLoad(url: () => string, experts: FactoryUser[], images: string[]) {
  const acks: Ack[] = [];
  const failures: string[] = [];
  let stopping = false;
  const tag = Math.random().toString(36).slice(2, 8);
  const loops = experts.map(async (e, k) => {
    for (let j = 0; !stopping; j++) {
      const image = images[Math.floor((EXPERTS * j + k) / 3) % images.length];
      const comment = `fault-${tag}-${k}-${j}`;
      const started = performance.now();
      let ok = false;
      try {
        const r = await fetch(`${url()}/api/images/${image}/votes/me`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${e.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ verdict: j % 4 === 0 ? 'abnormal' : 'normal', anomalies: [], comment }),
          signal: AbortSignal.timeout(30_000),
        });
        await r.arrayBuffer();
        ok = r.status >= 200 && r.status < 300;
        if (ok) acks.push({ comment, started, ended: performance.now() });
        else failures.push(String(r.status));
      } catch (err) {
        failures.push((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).name);
      }
      if (!ok) await sleep(100);
    }
  });
  return {
    acks,
    failures,
    /** Resolves once `n` more votes were acknowledged after the call (or `timeoutMs` passed). */
    async waitForAcks(n: number, timeoutMs = 60_000): Promise<boolean> {
      const target = acks.length + n;
      const deadline = Date.now() + timeoutMs;
      while (acks.length < target && Date.now() < deadline) await sleep(20);
      return acks.length >= target;
    },
    /**
     * Seconds from the fault (`from`, performance.now()) to the end of the first acknowledged vote begun
     * after `begunAfter` (when the fault had surely struck: the process gone, the server back).
     */
    recovered(from: number, begunAfter: number): number | null {
      const first = acks.filter((a) => a.started >= begunAfter).sort((a, b) => a.ended - b.ended)[0];
      return first ? (first.ended - from) / 1000 : null;
    },
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** The acknowledged votes whose comment is not in the votes table. */
async function missingVotes(db: Kysely<DB>, acks: Ack[]): Promise<string[]> {
  const stored = new Set(
    (await db.selectFrom('votes').select('comment').where('comment', 'like', 'fault-%').execute()).map(
      (v) => v.comment,
    ),
  );
  return acks.filter((a) => !stored.has(a.comment)).map((a) => a.comment);
}

async function seedVoting(db: Kysely<DB>) {
  const images = await buildImages(db, {
    bundle: 'faults',
    count: Math.ceil((EXPERTS * VOTES_EACH_MAX) / 3),
  });
  const experts = await buildSignedInUsers(db, 'expert', EXPERTS, 'fault-expert');
  return { images, experts };
}

/**
 * `kill -9` of the API under 50 voting experts, on the embedded database (its data directory) or on a
 * fresh PostgreSQL database: the API is restarted on the same data and the experts carry on; then the
 * second API is killed too, and every vote either API acknowledged must be stored.
 */
export async function apiKillScenario(kind: 'pglite' | 'postgres'): Promise<FaultRow> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-fault-api-'));
  let pgDatabase: Database | undefined;
  let api: ApiProcess | undefined;
  let load: ReturnType<typeof startVoteLoad> | undefined;
  try {
    let seeded: Awaited<ReturnType<typeof seedVoting>>;
    if (kind === 'postgres') {
      pgDatabase = await openTestDatabase('postgres');
      seeded = await seedVoting(pgDatabase.db);
    } else {
      // The embedded database as `npm start` keeps it (dataDir/db), migrated and seeded before the API opens it.
      const embedded = await openEmbedded({ dataDir: path.join(dataDir, 'db') });
      await migrateToLatest(embedded.db);
      seeded = await seedVoting(embedded.db);
      await embedded.close();
    }
    const start = () => startApiProcess({ dataDir, databaseUrl: pgDatabase?.url });
    api = await start();
    const first = api;
    load = startVoteLoad(() => api!.url, seeded.experts, seeded.images);
    if (!(await load.waitForAcks(300))) throw new Error(`no voting load: ${first.tail()}`);
    const killedAt = performance.now();
    await first.kill9();
    const goneAt = performance.now();
    const acksBeforeKill = load.acks.length;
    api = await start();
    const restartSeconds = (performance.now() - killedAt) / 1000;
    const carriedOn = await load.waitForAcks(300);
    // The second API dies the same way: what it acknowledged must be on disk too, not only in its memory.
    await api.kill9();
    await load.stop();
    const recovered = load.recovered(killedAt, goneAt);

    let missing: string[];
    if (pgDatabase) missing = await missingVotes(pgDatabase.db, load.acks);
    else {
      const reopened = await openEmbedded({ dataDir: path.join(dataDir, 'db') });
      try {
        missing = await missingVotes(reopened.db, load.acks);
      } finally {
        await reopened.close();
      }
    }
    return {
      scenario: `kill -9 of the API under ${EXPERTS} voting experts (${kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})`,
      acknowledged: load.acks.length,
      missing: missing.length,
      recoveredSeconds: recovered,
      outageSeconds: restartSeconds,
      failed: load.failures.length,
      note: `${acksBeforeKill} acknowledged before the kill; API restarted and healthy after ${restartSeconds.toFixed(1)} s; the restarted API killed too before the check`,
      details: { carriedOn, missingSample: missing.slice(0, 5), failures: tally(load.failures) },
    };
  } finally {
    await load?.stop();
    await api?.kill9();
    await pgDatabase?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * PostgreSQL restarted (`pg_ctl restart -m fast`: every session terminated, the server down and up again)
 * under 50 voting experts, on a private server: the API must recover without a restart of its own, and
 * every acknowledged vote must be stored.
 */
export async function postgresRestartScenario(): Promise<FaultRow> {
  const server = await startPrivatePostgres();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-fault-pg-'));
  let api: ApiProcess | undefined;
  let load: ReturnType<typeof startVoteLoad> | undefined;
  try {
    api = await startApiProcess({ dataDir, databaseUrl: server.url }); // migrates the new server
    const setup = openPostgres(server.url, 2);
    const seeded = await seedVoting(setup.db);
    await setup.close(); // its connections would not survive the restart either
    const running = api;
    load = startVoteLoad(() => running.url, seeded.experts, seeded.images);
    if (!(await load.waitForAcks(300))) throw new Error(`no voting load: ${running.tail()}`);
    const acksBefore = load.acks.length;
    const restartedAt = performance.now();
    await server.restart();
    const downSeconds = (performance.now() - restartedAt) / 1000;
    const carriedOn = await load.waitForAcks(300, 60_000);
    // Every expert is served again, not just some: experts with a vote acknowledged after the server was back.
    const backAt = restartedAt + downSeconds * 1000;
    const expertsServed = new Set(
      load.acks.filter((a) => a.started > backAt).map((a) => a.comment.split('-')[2]),
    ).size;
    await load.stop();
    const recovered = load.recovered(restartedAt, backAt);
    const apiAlive = await fetch(`${running.url}/api/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    await running.kill9();
    const check = openPostgres(server.url, 1);
    let missing: string[];
    try {
      missing = await missingVotes(check.db, load.acks);
    } finally {
      await check.close();
    }
    return {
      scenario: `PostgreSQL restarted (pg_ctl restart -m fast) under ${EXPERTS} voting experts`,
      acknowledged: load.acks.length,
      missing: missing.length,
      recoveredSeconds: recovered,
      outageSeconds: downSeconds,
      failed: load.failures.length,
      note: `${acksBefore} acknowledged before the restart; server down ${downSeconds.toFixed(1)} s; the API was not restarted`,
      details: {
        carriedOn,
        apiAlive,
        expertsServed,
        missingSample: missing.slice(0, 5),
        failures: tally(load.failures),
      },
    };
  } finally {
    await load?.stop();
    await api?.kill9();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** 16-bit 32×64 image; abnormal ones carry a bright scratch (as in models.test.ts). */
function tiff(seed: number, abnormal: boolean): Buffer {
  const width = 32;
  const height = 64;
  const px = new Uint16Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const wave = 300 * Math.sin((x + seed * 7) / 5) * Math.cos((y + seed * 3) / 9);
      const scratch = abnormal && Math.abs(y - 2 * x + (seed % 7)) < 2 ? 20000 : 0;
      px[y * width + x] = 2200 + Math.round(wave) + ((x * 31 + y * 17 + seed * 13) % 97) + scratch;
    }
  return encodeTiff({ width, height, bitDepth: 16 }, px);
}

/**
 * `kill -9` of a runner process (`npm run runner`) mid-training, on a fresh PostgreSQL database: no model
 * version may exist after the kill, a restarted runner retries the job, and the only version ever
 * activated is the retry's complete one.
 *
 * The sweep frees a dead runner's job once its heartbeat is 60 s old. Waiting out that minute tests
 * nothing but a clock, so the scenario moves the dead runner's last heartbeat an hour back (one UPDATE of
 * `locked_at`, what the passing minute would have done) before it starts the second runner.
 */
export async function runnerKillScenario(): Promise<FaultRow> {
  const database = await openTestDatabase('postgres');
  const db = database.db;
  const databaseUrl = database.url!; // a PostgreSQL database always has one
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-fault-runner-'));
  const backboneFile = path.join(dataDir, 'tiny-backbone.onnx');
  fs.writeFileSync(
    backboneFile,
    tinyBackbone({ seed: 5, metadata: { [BACKBONE_META.kind]: UNTRAINED, [BACKBONE_META.seed]: '5' } }).bytes,
  );
  const runnerEnv = {
    PLATINA_BACKBONE: backboneFile,
    PLATINA_INPUT_SIZE: '64x32',
    // Enough epochs that the head's training lasts seconds, long enough to be killed in the middle of it.
    PLATINA_EPOCHS: '100',
    PLATINA_EP: 'cpu',
    PLATINA_FEATURES: 'paper',
  };
  let api: ApiProcess | undefined;
  const runners: ReturnType<typeof startRunnerProcess>[] = [];
  const activations: { version: string; complete: boolean; at: number }[] = [];
  let sampling = true;
  let sampler: Promise<void> | undefined;
  try {
    api = await startApiProcess({ dataDir, databaseUrl });
    const [lead] = await buildSignedInUsers(db, 'lead', 1, 'fault-lead');
    const call = async (method: string, p: string, body?: unknown, raw?: Buffer) => {
      const r = await fetch(`${api!.url}${p}`, {
        method,
        headers: {
          authorization: `Bearer ${lead.token}`,
          'content-type': raw ? 'image/tiff' : 'application/json',
        },
        body: raw ? new Uint8Array(raw) : body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : null;
    };
    let seed = 0;
    for (const bundle of ['R1', 'R2', 'R3'])
      for (const abnormal of [false, false, true, true]) {
        const image = await call(
          'POST',
          `/api/images?bundle=${bundle}&name=r${++seed}.tif`,
          undefined,
          tiff(seed, abnormal),
        );
        await call('PUT', `/api/images/${image.id}/resolution`, {
          verdict: abnormal ? 'abnormal' : 'normal',
          anomalies: abnormal ? ['scratches'] : [],
          reason: 'fault suite label',
        });
      }
    const { jobId } = await call('POST', '/api/models/train', { method: 1, crossValidate: false });

    // Every activation ever visible, and whether its version was whole (head weights, all labels).
    sampler = (async () => {
      while (sampling) {
        const rows = await sql<{ version: string; bytes: number; images: number }>`
          select v.id as version, length(v.head_weights) as bytes, v.trained_on_images as images
          from model_activations a join model_versions v on v.id = a.model_version`
          .execute(db)
          .catch(() => ({ rows: [] }));
        for (const r of rows.rows)
          if (!activations.some((a) => a.version === r.version))
            activations.push({
              version: r.version,
              complete: r.bytes > 0 && r.images === 12,
              at: performance.now(),
            });
        await sleep(50);
      }
    })();

    const job = () =>
      db
        .selectFrom('jobs')
        .select(['status', 'progress', 'message', 'attempts', 'last_error', 'result', 'locked_by'])
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow();
    runners.push(startRunnerProcess({ databaseUrl, dataDir, env: runnerEnv }));
    // Kill it inside the head training (progress 0.3–0.95: after the embeddings, before the final write).
    const deadline = Date.now() + 120_000;
    let atKill = await job();
    while (!(atKill.status === 'running' && atKill.progress > 0.35) && Date.now() < deadline) {
      if (atKill.status !== 'queued' && atKill.status !== 'running')
        throw new Error(`the job ended before the kill: ${JSON.stringify(atKill)}\n${runners[0].tail()}`);
      await sleep(20);
      atKill = await job();
    }
    if (atKill.status !== 'running') throw new Error(`training never started:\n${runners[0].tail()}`);
    await runners[0].kill9();
    const killedAt = performance.now();
    const afterKill = await job();
    const versionsAfterKill = Number(
      (
        await db
          .selectFrom('model_versions')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    await sql`update jobs set locked_at = now() - interval '1 hour'
              where id = ${jobId} and status = 'running'`.execute(db);
    runners.push(startRunnerProcess({ databaseUrl, dataDir, env: runnerEnv }));
    let final = await job();
    while (final.status !== 'succeeded' && final.status !== 'failed' && Date.now() < deadline + 120_000) {
      await sleep(50);
      final = await job();
    }
    const retriedSeconds = (performance.now() - killedAt) / 1000;
    const result = final.result as { modelVersion?: string } | null;
    // The retry's version is activated once it is scored (a score job after the train job).
    while (
      result?.modelVersion &&
      !activations.some((a) => a.version === result.modelVersion) &&
      Date.now() < deadline + 180_000
    )
      await sleep(50);
    sampling = false;
    await sampler;
    const versions = await db.selectFrom('model_versions').select(['id', 'trained_on_images']).execute();
    return {
      scenario: 'kill -9 of the runner mid-training (PostgreSQL)',
      acknowledged: 1,
      missing: final.status === 'succeeded' ? 0 : 1,
      recoveredSeconds: final.status === 'succeeded' ? retriedSeconds : null,
      outageSeconds: null,
      failed: 0,
      note: `killed at progress ${atKill.progress.toFixed(2)} (${atKill.message}); retried as attempt ${final.attempts}; versions after the kill ${versionsAfterKill}; activations seen ${activations.length}, incomplete ${activations.filter((a) => !a.complete).length}`,
      details: {
        atKill,
        afterKill,
        versionsAfterKill,
        final,
        versions,
        activations,
        activatedBeforeKill: activations.filter((a) => a.at <= killedAt).length,
        runnerTail: final.status === 'succeeded' ? '' : runners.at(-1)?.tail(),
      },
    };
  } finally {
    sampling = false;
    await sampler;
    for (const r of runners) await r.kill9();
    await api?.kill9();
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function tally(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** The fault table as printed by the test and the bench. */
export function faultTable(rows: FaultRow[]): string {
  const lines = [
    '| scenario | acknowledged | missing | failed (unacknowledged) | recovered (s) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.acknowledged} | ${r.missing} | ${r.failed} | ${r.recoveredSeconds === null ? 'never' : r.recoveredSeconds.toFixed(2)} |`,
    ),
  ];
  return lines.join('\n');
}
