import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { BenchReport } from './report.ts';
import { tinyBackbone } from '../model-runner/src/backbone/fixtures.ts';
import { sha256Hex } from '../model-runner/src/backbone/load.ts';
import { mulberry32, fillNormal } from '../model-runner/src/onnx/random.ts';
import { startTestApp } from '../test/harness.ts';
import { imageRow } from '../test/factories/votes.ts';
import { DEFAULT_METHOD } from '../lib/jobs/payloads.ts';
import { boundsTag } from '../model-runner/src/runner/embedding-store.ts';

/**
 * Issue 7: "with cached embeddings, the time from the vote that completes a retrain batch to updated
 * priorities for 10 000 images must be under 15 seconds on this 2-core machine".
 *
 * The layout of `npm start`: embedded database, the runner inside the server process. 10 000 images in
 * 12 bundles with their embeddings already in the `embeddings` table (as after the upload-batch embed jobs),
 * a first model trained and active. Then `retrainEvery` − 1 images are resolved, and the timed step is the
 * last expert's vote (PUT /api/images/:id/votes/me) that resolves the 25th: the runner notices it (poll),
 * retrains the paper's head (50 epochs) on all resolved labels, scores all 10 000 images with their
 * priorities, and activates the version — the clock stops when the new version is active, which happens
 * only after all its predictions are stored.
 *
 * The backbone is a tiny stand-in (model-runner/src/backbone/fixtures.ts): with every embedding cached the
 * backbone never runs, and a warm runner has long built its ResNet-34. Vectors are synthetic (a class
 * signal plus noise), since only the time is measured here.
 */
const IMAGES = 10_000;
const BUNDLES = 12;
const FIRST_LABELS = 225;
const RETRAIN_EVERY = 25;

export default async function run(): Promise<BenchReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-bench-active-'));
  const backboneFile = path.join(dir, 'tiny-backbone.onnx');
  const backbone = tinyBackbone({ seed: 7 }).bytes;
  fs.writeFileSync(backboneFile, backbone);
  const backboneHash = sha256Hex(backbone);
  Object.assign(process.env, {
    PLATINA_BACKBONE: backboneFile,
    PLATINA_INPUT_SIZE: '64x32',
    PLATINA_EP: 'cpu',
    PLATINA_EPOCHS: '50',
  });
  const app = await startTestApp({ PLATINA_RUNNER: 'embedded' });
  const db = app.server.services.db;
  try {
    // --- a data set with cached embeddings and a first active model ---
    const random = mulberry32(11);
    const truth: boolean[] = [];
    const bundleIds: string[] = [];
    for (let b = 1; b <= BUNDLES; b++) {
      const r = await db
        .insertInto('bundles')
        .values({ name: `B${b}` })
        .returning('id')
        .executeTakeFirstOrThrow();
      bundleIds.push(r.id);
    }
    const ids: string[] = [];
    const signal = fillNormal(new Float32Array(512), 1, random);
    for (let start = 0; start < IMAGES; start += 500) {
      await db.transaction().execute(async (tx) => {
        const rows = Array.from({ length: Math.min(500, IMAGES - start) }, (_, k) => {
          const n = start + k;
          truth[n] = random() < 0.25;
          return imageRow(
            bundleIds[n % BUNDLES],
            `img${n}.tif`,
            createHash('sha256').update(`bench-${n}`).digest('hex'),
          );
        });
        const inserted = await tx.insertInto('images').values(rows).returning(['id', 'sha256']).execute();
        const vectors = inserted.flatMap((im, k) =>
          [0, 1, 2, 3].map((flip) => {
            const v = fillNormal(new Float32Array(512), 1, random);
            if (truth[start + k]) for (let i = 0; i < 512; i++) v[i] += 0.3 * signal[i];
            return {
              sha256: im.sha256,
              backbone_hash: backboneHash,
              input_size: '64x32',
              // The first (automatic) training uses the default method; every image has bounds 1700–2800.
              method: DEFAULT_METHOD,
              bounds: boundsTag({ method: DEFAULT_METHOD, globalBounds: { lo: 1700, hi: 2800 } }),
              flip: flip as 0 | 1 | 2 | 3,
              vector: Buffer.from(v.buffer),
            };
          }),
        );
        for (let i = 0; i < vectors.length; i += 500)
          await tx
            .insertInto('embeddings')
            .values(vectors.slice(i, i + 500))
            .execute();
        ids.push(...inserted.map((r) => r.id));
      });
    }
    const resolve = async (from: number, to: number) => {
      await db
        .insertInto('image_consensus')
        .values(
          ids.slice(from, to).map((id, k) => ({
            image_id: id,
            status: 'resolved' as const,
            verdict: truth[from + k] ? ('abnormal' as const) : ('normal' as const),
            method: 'unanimous' as const,
            normal_votes: truth[from + k] ? 0 : 3,
            abnormal_votes: truth[from + k] ? 3 : 0,
            resolved_at: new Date(),
          })),
        )
        .execute();
    };
    const setRetrain = await app.request('PUT', '/api/settings', {
      token: app.admin.token,
      json: { retrainEvery: RETRAIN_EVERY, votesRequired: 3 },
    });
    if (setRetrain.status !== 200) throw new Error(`settings: ${setRetrain.text}`);
    // Bench setup writes consensus rows directly (the vote path is measured below, once).
    await resolve(0, FIRST_LABELS);
    const first = await waitForActivation(db, null, 600_000);

    // --- the retrain batch: 24 labels, then two votes on the 25th image, then the timed third vote ---
    await resolve(FIRST_LABELS, FIRST_LABELS + RETRAIN_EVERY - 1);
    const target = ids[FIRST_LABELS + RETRAIN_EVERY - 1];
    const verdict = truth[FIRST_LABELS + RETRAIN_EVERY - 1] ? 'abnormal' : 'normal';
    const experts = [await app.user('expert'), await app.user('expert'), await app.user('expert')];
    for (const e of experts.slice(0, 2)) {
      const r = await app.request('PUT', `/api/images/${target}/votes/me`, {
        token: e.token,
        json: { verdict, anomalies: [] },
      });
      if (r.status !== 200) throw new Error(`vote: ${r.text}`);
    }
    await new Promise((r) => setTimeout(r, 1500)); // let the runner's scheduler see the quiet state
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const vote = await app.request('PUT', `/api/images/${target}/votes/me`, {
      token: experts[2].token,
      json: { verdict, anomalies: [] },
    });
    const voteMs = performance.now() - t0;
    if (vote.status !== 200) throw new Error(`vote: ${vote.text}`);
    const second = await waitForActivation(db, first, 120_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const load = os.loadavg()[0];

    const jobs = await db
      .selectFrom('jobs')
      .select(['kind', 'started_at', 'finished_at', 'created_at', 'result'])
      .where('status', '=', 'succeeded')
      .orderBy('id', 'desc')
      .limit(2)
      .execute();
    const dur = (j: (typeof jobs)[number] | undefined) =>
      j?.started_at && j.finished_at ? (j.finished_at.getTime() - j.started_at.getTime()) / 1000 : NaN;
    const score = jobs.find((j) => j.kind === 'score');
    const train = jobs.find((j) => j.kind === 'train');
    const scored = await db
      .selectFrom('predictions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('model_version', '=', second)
      .executeTakeFirstOrThrow();
    const labels = FIRST_LABELS + RETRAIN_EVERY;
    return {
      name: 'active-latency',
      context: {
        database: app.server.services.dbKind,
        images: IMAGES,
        bundles: BUNDLES,
        labels,
        retrainEvery: RETRAIN_EVERY,
        epochs: 50,
        scored: Number(scored.n),
        backbone: 'tiny stand-in (all embeddings cached)',
        loadAverage1m: load,
        scoreJobSeconds: score?.result,
      },
      rows: [
        {
          metric: `vote completing a retrain batch → priorities of ${IMAGES} images updated (${labels} labels)`,
          value: seconds,
          unit: 's',
          reference: { metric: 'the vote request itself', value: voteMs / 1000, unit: 's' },
          ratio: seconds / (voteMs / 1000),
          note: `issue 7 target: < 15 s; ${seconds < 15 ? 'met' : 'NOT met'} (1-min load average ${load.toFixed(1)} on ${os.cpus().length} cores)`,
        },
        {
          metric: 'CPU time of this process in that window (all threads)',
          value: cpuSeconds,
          unit: 's',
          reference: { metric: 'wall time', value: seconds, unit: 's' },
          ratio: cpuSeconds / seconds,
          note: 'what an otherwise idle machine needs at least ÷ the cores used; the wall time above includes waiting for a shared CPU',
        },
        {
          metric: 'of which: train job (50 epochs, no CV)',
          value: dur(train),
          unit: 's',
          reference: { metric: 'whole loop', value: seconds, unit: 's' },
          ratio: dur(train) / seconds,
        },
        {
          metric: `of which: score job (${IMAGES} images, priorities, store)`,
          value: dur(score),
          unit: 's',
          reference: { metric: 'whole loop', value: seconds, unit: 's' },
          ratio: dur(score) / seconds,
        },
      ],
    };
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits for an activation of a version other than `previous`; returns its version. */
async function waitForActivation(
  db: Awaited<ReturnType<typeof startTestApp>>['server']['services']['db'],
  previous: string | null,
  timeoutMs: number,
): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const r = await db
      .selectFrom('model_activations')
      .select('model_version')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (r && r.model_version !== previous) return r.model_version;
    const failed = await db
      .selectFrom('jobs')
      .select(['kind', 'last_error'])
      .where('status', '=', 'failed')
      .executeTakeFirst();
    if (failed) throw new Error(`${failed.kind} job failed: ${failed.last_error}`);
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for a model activation');
    await sql`select 1`.execute(db);
    await new Promise((res) => setTimeout(res, 50));
  }
}
