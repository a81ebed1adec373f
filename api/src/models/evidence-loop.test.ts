import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { encodeTiff } from '../../../lib/imaging/tiff-write.ts';
import { tinyBackbone } from '../../../model-runner/src/backbone/fixtures.ts';
import { EVIDENCE_VERSION } from '../../../model-runner/src/evidence/extract.ts';
import { ComputeThread } from '../../../model-runner/src/runner/compute.ts';
import { decodeHead } from '../../../lib/model/head-codec.ts';
import { createModelRunner, type ModelRunner } from '../../../model-runner/src/runner/index.ts';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';

/**
 * Issue 13 through the API and the runner: evidence and unusualness from the first upload, with no label and no
 * model; the queue's order before the first model; fused versions and promotion that compares like with like.
 */
const W = 64;
const H = 128;

/** A 16-bit coating: a slow gradient, a mild texture and pixel noise; `defect`: one small bright spot. */
function coating(seed: number, defect: boolean): Buffer {
  let s = seed * 2654435761;
  const noise = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 120;
  const px = new Uint16Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const base = 21000 + 8 * y + 200 * Math.sin((x + seed) / 11) + noise();
      const spot = defect && (x - 40) ** 2 + (y - 50) ** 2 <= 9 ? 6000 : 0;
      px[y * W + x] = Math.round(base + spot);
    }
  return encodeTiff({ width: W, height: H, bitDepth: 16 }, px);
}

describe('evidence, unusualness and fused models', () => {
  let app: TestApp;
  let lead: TestUser;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-evidence-loop-'));
  const compute = new ComputeThread();
  const runners: ModelRunner[] = [];
  const ids: string[] = [];
  let defect = '';
  const runner = (features?: string) => {
    const r = createModelRunner({
      compute,
      db: app.server.services.db,
      logger: pino({ level: 'silent' }),
      dataDir: app.config.dataDir,
      env: {
        PLATINA_BACKBONE: path.join(dir, 'tiny.onnx'),
        PLATINA_INPUT_SIZE: '64x32',
        PLATINA_EP: 'cpu',
        PLATINA_EPOCHS: '3',
        ...(features ? { PLATINA_FEATURES: features } : {}),
      },
      schedule: false,
    });
    runners.push(r);
    return r;
  };

  const succeeded = async (jobIds: string[]) => {
    for (const id of jobIds) {
      const j = await app.request('GET', `/api/jobs/${id}`, { token: lead.token });
      assert.equal(j.body.status, 'succeeded', `${j.body.kind}: ${j.body.error}`);
    }
  };

  before(async () => {
    fs.writeFileSync(path.join(dir, 'tiny.onnx'), tinyBackbone({ seed: 3 }).bytes);
    app = await startTestApp();
    lead = await app.user('lead');
    // Ten images in two bundles; the defect is neither bundle's first upload, so the fresh order would not
    // hand it out first by itself.
    for (let n = 0; n < 10; n++) {
      const bundle = n < 6 ? 'B1' : 'B2';
      const r = await app.request('POST', `/api/images?bundle=${bundle}&name=c${n}.tif`, {
        token: lead.token,
        body: coating(n + 1, n === 3),
        headers: { 'content-type': 'image/tiff' },
      });
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id);
    }
    defect = ids[3];
  });
  after(async () => {
    for (const r of runners) await r.stop();
    await compute.terminate();
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an uploaded image gets evidence, a heatmap and an unusualness score without any model', async () => {
    const r = runner();
    const jobId = await r.scheduler.evidenceForNewImages();
    assert.ok(jobId, 'the scheduler enqueues evidence for new uploads');
    assert.equal(await r.scheduler.evidenceForNewImages(), null, 'one batch at a time');
    const ran = await r.jobs.drain();
    assert.deepEqual(
      ran.map((j) => j.kind),
      ['evidence'],
    );
    const job = await app.request('GET', `/api/jobs/${jobId}`, { token: lead.token });
    assert.equal(job.body.status, 'succeeded', job.body.error);
    assert.equal(job.body.result.evidence, 10);
    assert.equal(job.body.result.unusualness.fitOn, 'all');
    const db = app.server.services.db;
    const rows = await db
      .selectFrom('image_evidence')
      .select(['version', 'vector', 'heatmap', 'heatmap_width', 'heatmap_height'])
      .execute();
    assert.equal(rows.length, 10);
    for (const row of rows) {
      assert.equal(row.version, EVIDENCE_VERSION);
      assert.ok(row.vector.byteLength > 0 && row.vector.byteLength % 4 === 0);
      assert.equal(row.heatmap.byteLength, row.heatmap_width * row.heatmap_height * 4);
    }
    const unusual = await db.selectFrom('image_unusualness').selectAll().execute();
    assert.equal(unusual.length, 10);
    assert.equal(await db.selectFrom('model_versions').select('id').executeTakeFirst(), undefined);
    assert.equal(await r.scheduler.evidenceForNewImages(), null, 'nothing left to compute');
  });

  test('with zero labels the queue serves the most unusual image first, and says why', async () => {
    const db = app.server.services.db;
    const top = await db
      .selectFrom('image_unusualness')
      .select(['image_id', 'reason', 'bundle_percentile'])
      .orderBy('score', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(top.image_id, defect, 'the planted spot is the most unusual image');
    assert.equal(top.bundle_percentile, 100);
    assert.match(
      top.reason,
      /^looks unusual: top 17 % in B1, strongest in .+ \(\d+\.\d × the normal spread\)$/,
    );
    const expert = await app.user('expert');
    const next = await app.request('GET', '/api/queue/next', { token: expert.token });
    assert.equal(next.status, 200, next.text);
    assert.equal(next.body.id, defect);
  });

  test("before any model the lead sees the queue's order with each image's reason; an expert may not", async () => {
    const r = await app.request('GET', '/api/queue/upcoming?limit=5', { token: lead.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.modelVersion, null);
    assert.equal(r.body.items.length, 5);
    const [first] = r.body.items;
    assert.equal(first.image.id, defect, 'the image the queue serves first');
    assert.equal(first.source, 'unusualness');
    assert.match(first.reason, /^looks unusual: top \d+ % in B1, strongest in /);
    const scores = r.body.items.map((i: { score: number }) => i.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      'most unusual first',
    );
    const expert = await app.user('expert');
    const refused = await app.request('GET', '/api/queue/upcoming', { token: expert.token });
    assert.equal(refused.status, 403);
    const bad = await app.request('GET', '/api/queue/upcoming?limit=0', { token: lead.token });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
    assert.match(bad.body.detail, /limit/);
  });

  test("a fused version records its features, scores every image, and its head's input is embedding + evidence", async () => {
    for (const [k, id] of ids.entries()) {
      const r = await app.request('PUT', `/api/images/${id}/resolution`, {
        token: lead.token,
        json: { verdict: k === 3 || k === 8 ? 'abnormal' : 'normal', anomalies: [], reason: 'test label' },
      });
      assert.equal(r.status, 200, r.text);
    }
    const t = await app.request('POST', '/api/models/train', {
      token: lead.token,
      json: { method: 1, crossValidate: true },
    });
    assert.equal(t.status, 202);
    const ran = await runner().jobs.drain();
    assert.deepEqual(
      ran.map((j) => j.kind),
      ['train', 'score'],
    );
    await succeeded(ran.map((j) => j.id));
    const models = await app.request('GET', '/api/models', { token: lead.token });
    assert.equal(models.body.length, 1);
    assert.equal(models.body[0].features, 'fused');
    assert.equal(models.body[0].evidenceVersion, EVIDENCE_VERSION);
    assert.equal(models.body[0].active, true);
    const db = app.server.services.db;
    const v = await db.selectFrom('model_versions').select(['id', 'head_weights']).executeTakeFirstOrThrow();
    const evidence = await db.selectFrom('image_evidence').select('vector').executeTakeFirstOrThrow();
    // The embedding, the evidence, and the evidence normalised per bundle (evidence/bundle-normalise.ts).
    assert.equal(decodeHead(v.head_weights)[0].inputs, 512 + 2 * (evidence.vector.byteLength / 4));
    const predictions = await db
      .selectFrom('predictions')
      .select('p_abnormal')
      .where('model_version', '=', v.id)
      .execute();
    assert.equal(predictions.length, 10);
    assert.ok(predictions.every((p) => p.p_abnormal >= 0 && p.p_abnormal <= 1));
    const onnx = await app.request('GET', `/api/models/${v.id}/onnx`, { token: lead.token });
    assert.equal(onnx.status, 409);
    assert.match(onnx.body.detail, /saw features 'fused'.*only 'paper' versions export/);
  });

  test('promotion never compares a fused version with a paper one', async () => {
    const db = app.server.services.db;
    const fused = (await db.selectFrom('model_versions').select('id').executeTakeFirstOrThrow()).id;
    // A paper version while the fused one is active: no paper baseline exists, so it is not weighed against
    // the fused version's numbers; it is the first of its kind.
    await app.request('POST', '/api/models/train', {
      token: lead.token,
      json: { method: 1, crossValidate: true },
    });
    await succeeded((await runner('paper').jobs.drain()).map((j) => j.id));
    const paper = await db
      .selectFrom('model_versions')
      .select(['id', 'features', 'evidence_version', 'settings'])
      .where('id', '!=', fused)
      .executeTakeFirstOrThrow();
    assert.equal(paper.features, 'paper');
    assert.equal(paper.evidence_version, null);
    const ps = paper.settings as { comparison: unknown; baseline: string | null };
    assert.equal(ps.comparison, null);
    assert.equal(ps.baseline, null);
    const activation = await db
      .selectFrom('model_activations')
      .select('reason')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.match(activation.reason, /first version with features paper.*not compared across feature sets/);

    // A fused version with other settings (method 3) while the paper one is active: its baseline is the
    // earlier FUSED version, cross-validated on the same labels — never the active paper version.
    await app.request('POST', '/api/models/train', {
      token: lead.token,
      json: { method: 3, crossValidate: true },
    });
    await succeeded((await runner('fused').jobs.drain()).map((j) => j.id));
    const third = await db
      .selectFrom('model_versions')
      .select(['features', 'settings'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(third.features, 'fused');
    const ts = third.settings as { comparison: { active: number | null } | null; baseline: string | null };
    assert.equal(ts.baseline, fused);
    assert.ok(ts.comparison, 'compared with the fused baseline');
  });
});
