import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../api/src/config.ts';
import { startServer, type RunningServer } from '../api/src/server.ts';
import { httpLoad } from './http-load/index.ts';
import { buildSignedInUsers } from '../test/factories/votes.ts';
import { openTestDatabase, TEST_PG_URL } from '../test/databases.ts';
import { quantile, type BenchReport, type BenchRow } from './report.ts';

const run = promisify(execFile);

const VOTE_EXPERTS = 50;
const VOTES_EACH = 40;
const WARMUP_VOTES_EACH = 10;
const QUEUE_IMAGES = 100_000;
const QUEUE_BUNDLES = 12;
const QUEUE_EXPERTS = 20;
const QUEUE_ROUNDS = 25;
const PGBENCH_SECONDS = 10;
/** Mean pause between an expert's vote and their next request in the paced run. */
const THINK_MS = 1000;
/** Share of every bundle decided in the mature-project run. */
const MATURE_FRACTION = 0.9;

/**
 * Votes over HTTP on a real PostgreSQL (a fresh database cloned from the migrated template, the API on
 * port 0 in this process, its default pool of 10 connections), each figure beside `pgbench` inserting one
 * vote row per transaction with the same concurrency on the same server in the same run: the physical
 * limit of this machine for "store one vote". The experts' HTTP clients run in a worker thread
 * (http-load/), off the server's event loop, but on the same 2 CPU cores as the server and PostgreSQL,
 * so the HTTP figures are a lower bound.
 */
export default async function runBench(): Promise<BenchReport> {
  const pgbench = await findPgbench();
  const database = await openTestDatabase('postgres');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-bench-'));
  const config = loadConfig({
    PORT: '0',
    PLATINA_DATA_DIR: dataDir,
    PLATINA_ADMIN_PASSWORD: 'bench-admin-password',
    PLATINA_RUNNER: 'off',
    LOG_LEVEL: 'silent',
  });
  const server = await startServer(config, database, { logger: pino({ level: 'silent' }) });
  const db = server.services.db;
  const load = httpLoad();
  // The 2-core machine is shared with the whole team: the load average says how much of it we had.
  const loadBefore = os.loadavg()[0];
  try {
    const dbName = new URL(database.url!).pathname.slice(1);
    await insertImages(server, QUEUE_IMAGES, QUEUE_BUNDLES);
    const [{ lo, hi }] = (
      await sql<{ lo: string; hi: string }>`select min(id) as lo, max(id) as hi from images`.execute(db)
    ).rows;

    // 1. Vote submissions: 50 experts, each casting 40 votes in sequence, all at once. Expert k's j-th
    // vote goes to image ⌊(50 j + k) / 3⌋, so every image gets three votes at nearly the same moment
    // (the image-row lock is contended, as in a real burst).
    const voters = await buildSignedInUsers(db, 'expert', VOTE_EXPERTS, 'bench-voter');
    // Warm-up, not measured: the same burst, shorter, on the last images (far from the queue's first
    // offers), so the figures below are the server's steady state, not its first JIT compilations,
    // connections and prepared statements.
    await load.run('voteBurst', {
      url: server.url,
      plans: voters.map((expert, k) => ({
        token: expert.token,
        images: Array.from({ length: WARMUP_VOTES_EACH }, (_, j) =>
          String(BigInt(hi) - BigInt(Math.floor((VOTE_EXPERTS * j + k) / 3))),
        ),
      })),
    });
    const burst = await load.run('voteBurst', {
      url: server.url,
      plans: voters.map((expert, k) => ({
        token: expert.token,
        images: Array.from({ length: VOTES_EACH }, (_, j) =>
          String(BigInt(lo) + BigInt(Math.floor((VOTE_EXPERTS * j + k) / 3))),
        ),
      })),
    });
    const voteLatencies = burst.latencies;
    const voteRate = voteLatencies.length / burst.seconds;

    // 2. Next image: 20 experts, each 25 rounds of "get the next image, vote on it", on 100 000 images —
    // first back to back (a stress test: 20 requests always in flight), then at a human pace: a second
    // between images on average, still several times faster than anyone labels an electrode. The back-to-back
    // experts all send their first request in the same millisecond: that round is reported on its own
    // (the burst), and 25 more are measured.
    const queueExperts = await buildSignedInUsers(db, 'expert', QUEUE_EXPERTS, 'bench-queue');
    const pacedExperts = await buildSignedInUsers(db, 'expert', QUEUE_EXPERTS, 'bench-paced');
    const queueRounds = (
      experts: typeof queueExperts,
      thinkMs: number,
      rounds = QUEUE_ROUNDS,
      rampUpRounds = 0,
    ) =>
      load.run('queueRounds', {
        url: server.url,
        experts: experts.map((e) => ({ token: e.token })),
        rounds,
        thinkMs,
        rampUpRounds,
      });
    // Warm-up, not measured, as for the votes: a few rounds by other experts, so the measured ones meet a
    // server whose queue statements are prepared on its connections and its code compiled.
    await queueRounds(await buildSignedInUsers(db, 'expert', QUEUE_EXPERTS, 'bench-warm'), 0, 3);
    const stress = await queueRounds(queueExperts, 0, QUEUE_ROUNDS + 1, 1);
    const nextLatencies = stress.latencies;
    const pacedLatencies = (await queueRounds(pacedExperts, THINK_MS)).latencies;

    // 2b. Paced experts on a mature project: 90 % of every bundle decided by three unanimous votes each,
    // cast by these same 20 experts in turn (13 500 past votes each, as after months of labeling), written
    // straight to the tables (the consensus table's trigger keeps images.fresh).
    const matureExperts = await buildSignedInUsers(db, 'expert', QUEUE_EXPERTS, 'bench-mature');
    await sql`
      with decided as (
        select i.id from images i
        join (select bundle_id, min(id) as lo, count(*) as n from images group by bundle_id) b
          on b.bundle_id = i.bundle_id
        where i.id < b.lo + b.n * ${MATURE_FRACTION}::float8
          and not exists (select 1 from image_consensus c where c.image_id = i.id)
      ), voted as (
        insert into votes (image_id, user_id, verdict, anomalies)
        select d.id, e.id, 'normal', '{}'
        from decided d
        join unnest(${matureExperts.map((e) => e.id)}::bigint[]) with ordinality as e(id, n)
          on e.n - 1 in (d.id % ${QUEUE_EXPERTS}, (d.id + 7) % ${QUEUE_EXPERTS}, (d.id + 14) % ${QUEUE_EXPERTS})
        returning image_id
      )
      insert into image_consensus (image_id, status, verdict, method, normal_votes, votes_needed)
      select image_id, 'resolved', 'normal', 'unanimous', count(*), 0 from voted group by image_id`.execute(
      db,
    );
    await sql`analyze`.execute(db);
    const matureLatencies = (await queueRounds(matureExperts, THINK_MS)).latencies;

    // 3. The reference: pgbench, one INSERT of a vote row per transaction, 50 clients, same server.
    const users = voters.map((v) => Number(v.id));
    const raw = await pgbenchInsert(pgbench, dbName, {
      clients: VOTE_EXPERTS,
      imageLo: lo,
      imageHi: hi,
      userLo: Math.min(...users),
      userHi: Math.max(...users),
    });
    const raw20 = await pgbenchInsert(pgbench, dbName, {
      clients: QUEUE_EXPERTS,
      imageLo: lo,
      imageHi: hi,
      userLo: Math.min(...users),
      userHi: Math.max(...users),
    });

    const rows: BenchRow[] = [
      {
        metric: `vote submissions, ${VOTE_EXPERTS} concurrent experts over HTTP`,
        value: voteRate,
        unit: 'votes/s',
        reference: {
          metric: `pgbench INSERT of one vote row, ${VOTE_EXPERTS} clients`,
          value: raw.tps,
          unit: 'tx/s',
        },
        ratio: voteRate / raw.tps,
        note: 'higher is better; target ≥ 0.2',
      },
      ...latencyRows('vote latency', voteLatencies, raw, 'pgbench INSERT latency', ''),
      ...latencyRows(
        `next image, ${QUEUE_IMAGES} images, ${QUEUE_EXPERTS} experts`,
        nextLatencies,
        raw20,
        `pgbench INSERT latency, ${QUEUE_EXPERTS} clients`,
        '; back to back (stress)',
      ),
      {
        metric: `next image, ${QUEUE_EXPERTS} experts' first requests sent in the same millisecond: slowest`,
        value: Math.max(...stress.rampUp),
        unit: 'ms',
        reference: {
          metric: `pgbench INSERT latency, ${QUEUE_EXPERTS} clients: p99`,
          value: raw20.p99,
          unit: 'ms',
        },
        ratio: Math.max(...stress.rampUp) / raw20.p99,
        note: 'lower is better; the burst that opens the back-to-back run, kept out of its p50/p99',
      },
      ...latencyRows(
        `next image, ${QUEUE_IMAGES} images, ${QUEUE_EXPERTS} experts, ~${THINK_MS} ms between images`,
        pacedLatencies,
        raw20,
        `pgbench INSERT latency, ${QUEUE_EXPERTS} clients`,
        '',
      ),
      ...latencyRows(
        `next image, ${QUEUE_IMAGES} images ${MATURE_FRACTION * 100} % decided by the experts’ own votes, ${QUEUE_EXPERTS} experts, ~${THINK_MS} ms between images`,
        matureLatencies,
        raw20,
        `pgbench INSERT latency, ${QUEUE_EXPERTS} clients`,
        '',
      ),
    ];
    return {
      name: 'votes',
      rows,
      context: {
        database: 'PostgreSQL on 127.0.0.1 (fresh database)',
        loadAverage1m: { before: loadBefore, after: os.loadavg()[0], cpus: os.cpus().length },
        images: QUEUE_IMAGES,
        bundles: QUEUE_BUNDLES,
        votes: voteLatencies.length,
        queueRequests:
          stress.rampUp.length + nextLatencies.length + pacedLatencies.length + matureLatencies.length,
        pgbench: `${pgbench}, ${PGBENCH_SECONDS} s per run, -j 2`,
        pgbenchTransactions: { clients50: raw.transactions, clients20: raw20.transactions },
      },
    };
  } finally {
    await load.close();
    await server.close(1000);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** p50 and p99 of `latencies` (ms), each beside the same quantile of a pgbench run; the target is on p99. */
function latencyRows(
  what: string,
  latencies: number[],
  ref: { p50: number; p99: number },
  refWhat: string,
  p99Note: string,
): BenchRow[] {
  return ([0.5, 0.99] as const).map((q) => {
    const p = q === 0.5 ? 'p50' : 'p99';
    const value = quantile(latencies, q);
    return {
      metric: `${what}: ${p}`,
      value,
      unit: 'ms',
      reference: { metric: `${refWhat}: ${p}`, value: ref[p], unit: 'ms' },
      ratio: value / ref[p],
      note: q === 0.5 ? 'lower is better' : `lower is better; target < 50 ms${p99Note}`,
    };
  });
}

/** Bulk image rows (set-based: 100 000 factory rows one by one would dominate the run). */
async function insertImages(server: RunningServer, count: number, bundles: number): Promise<void> {
  const db = server.services.db;
  await sql`insert into bundles (name) select 'bench-' || g from generate_series(1, ${bundles}) g`.execute(
    db,
  );
  // Bundles uploaded one after another, as an import does.
  await sql`
    insert into images (bundle_id, name, sha256, byte_size, width, height, bit_depth,
                        px_min, px_max, p0_01, p99_99, histogram)
    select b.id, 'img-' || g || '.tif', md5(g::text) || md5((g + 1)::text), 1000, 1145, 2072, 16,
           1700, 28000, 1700, 2800, '{}'
    from generate_series(0, ${count - 1}) g
    join bundles b on b.name = 'bench-' || (g * ${bundles} / ${count} + 1)
    order by g`.execute(db);
  await sql`analyze`.execute(db);
}

async function findPgbench(): Promise<string> {
  for (const candidate of ['pgbench', ...globPgbench()]) {
    try {
      await run(candidate, ['--version']);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    'pgbench not found: install postgresql-contrib (Debian: the postgresql-client package has it)',
  );
}

function globPgbench(): string[] {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).map((v) => path.join(root, v, 'bin', 'pgbench'));
}

/** pgbench with a one-INSERT script; latencies from its per-transaction log (column 3, µs). */
async function pgbenchInsert(
  pgbench: string,
  dbName: string,
  o: { clients: number; imageLo: string; imageHi: string; userLo: number; userHi: number },
): Promise<{ tps: number; p50: number; p99: number; transactions: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-pgbench-'));
  try {
    const script = path.join(dir, 'vote.sql');
    fs.writeFileSync(
      script,
      `\\set img random(${o.imageLo}, ${o.imageHi})\n\\set usr random(${o.userLo}, ${o.userHi})\n` +
        `insert into votes (image_id, user_id, verdict, anomalies) values (:img, :usr, 'normal', '{}');\n`,
    );
    const url = new URL(TEST_PG_URL);
    const { stdout } = await run(
      pgbench,
      [
        '-h',
        url.hostname,
        '-p',
        url.port || '5432',
        '-U',
        url.username || 'postgres',
        '-n',
        '-c',
        String(o.clients),
        '-j',
        '2',
        '-T',
        String(PGBENCH_SECONDS),
        '-f',
        script,
        '-l',
        '--log-prefix',
        path.join(dir, 'log'),
        dbName,
      ],
      { cwd: dir },
    );
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    const latencies: number[] = [];
    for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('log'))) {
      for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (Number.isFinite(us) && line) latencies.push(us / 1000);
      }
    }
    return {
      tps,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      transactions: latencies.length,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
