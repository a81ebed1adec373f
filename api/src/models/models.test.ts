import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import pino from 'pino';
import { encodeTiff } from '../../../lib/imaging/tiff-write.ts';
import { modelInput } from '../../../lib/imaging/tasks.ts';
import { tinyBackbone } from '../../../model-runner/src/backbone/fixtures.ts';
import { BACKBONE_META, UNTRAINED } from '../../../model-runner/src/backbone/resnet34.ts';
import { ComputeThread } from '../../../model-runner/src/runner/compute.ts';
import { createModelRunner, type ModelRunner } from '../../../model-runner/src/runner/index.ts';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { ANOMALY_CODES } from '../../../lib/anomaly-types.ts';

/**
 * The model runner end to end, through the API: small synthetic TIFFs uploaded, labels resolved by the
 * lead, a training job run by the runner (tiny input size so it takes seconds), the version, its
 * predictions with priorities, the merged ONNX export, a runner stopped mid-job, and API latency while
 * the runner works in the same process.
 */
const INPUT_SIZE = '64x32';
// A tiny stand-in backbone marked "untrained" like the offline ResNet-34 (whose build costs ~1 CPU-minute
// and is tested by its owners): the API must report it as such. The export reads the server's env.
const backboneDir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-models-test-'));
const backboneFile = path.join(backboneDir, 'backbone.onnx');
fs.writeFileSync(
  backboneFile,
  tinyBackbone({ seed: 5, metadata: { [BACKBONE_META.kind]: UNTRAINED, [BACKBONE_META.seed]: '5' } }).bytes,
);
process.env.PLATINA_BACKBONE = backboneFile;
const env = {
  ...process.env,
  PLATINA_INPUT_SIZE: INPUT_SIZE,
  PLATINA_EPOCHS: '10',
  PLATINA_EP: 'cpu',
  // The paper's pipeline (the merged export below exists for it alone); fused versions: evidence-loop.test.ts.
  PLATINA_FEATURES: 'paper',
};

/** 16-bit 32×64 image: smooth texture; abnormal ones carry a bright scratch across the middle. */
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

describe('model runner through the API', () => {
  let app: TestApp;
  let lead: TestUser;
  let expert: TestUser;
  const images: { id: string; abnormal: boolean; bundle: string }[] = [];
  const unlabeled: string[] = [];
  const logger = pino({ level: 'silent' });
  // One compute thread for all runners of this file: the untrained backbone is built once, not per runner.
  const compute = new ComputeThread();
  const runner = (): ModelRunner =>
    createModelRunner({
      compute,
      db: app.server.services.db,
      logger,
      dataDir: app.config.dataDir,
      env,
      pollMs: 50,
      schedule: false,
    });

  before(async () => {
    app = await startTestApp();
    lead = await app.user('lead');
    expert = await app.user('expert');
    let seed = 0;
    for (const bundle of ['B1', 'B2', 'B3']) {
      for (const abnormal of [false, false, true, true, false]) {
        const r = await app.request('POST', `/api/images?bundle=${bundle}&name=img${++seed}.tif`, {
          token: lead.token,
          body: tiff(seed, abnormal),
          headers: { 'content-type': 'image/tiff' },
        });
        assert.equal(r.status, 201, r.text);
        // The fifth image of each bundle stays unlabeled: it must be scored too.
        if (images.filter((i) => i.bundle === bundle).length === 4) unlabeled.push(r.body.id);
        else images.push({ id: r.body.id, abnormal, bundle });
      }
    }
    for (const im of images) {
      // Lead resolutions (PUT /resolution) give resolved labels without simulating three experts.
      const r = await app.request('PUT', `/api/images/${im.id}/resolution`, {
        token: lead.token,
        json: {
          verdict: im.abnormal ? 'abnormal' : 'normal',
          anomalies: im.abnormal ? ['scratches'] : [],
          reason: 'test label',
        },
      });
      assert.equal(r.status, 200, r.text);
    }
  });
  after(async () => {
    await compute.terminate();
    await app.close();
    fs.rmSync(backboneDir, { recursive: true, force: true });
  });

  let version: string;

  test('a train job stores a cross-validated version and activates it once every image is scored', async () => {
    const r = await app.request('POST', '/api/models/train', {
      token: lead.token,
      json: { method: 1, crossValidate: true },
    });
    assert.equal(r.status, 202);
    const ran = await runner().jobs.drain();
    assert.deepEqual(
      ran.map((j) => j.kind),
      ['train', 'score'],
    );
    const job = await app.request('GET', `/api/jobs/${r.body.jobId}`, { token: lead.token });
    assert.equal(job.body.status, 'succeeded', job.body.error);
    assert.equal(job.body.progress, 1);
    assert.equal(job.body.result.activation, 'first model');

    const models = await app.request('GET', '/api/models', { token: expert.token });
    assert.equal(models.status, 200);
    assert.equal(models.body.length, 1);
    const m = models.body[0];
    version = m.version;
    assert.equal(m.active, true);
    assert.equal(m.method, 1);
    assert.deepEqual(m.trainedOn, { images: 12, bundles: 3 });
    assert.equal(m.backbone.kind, 'untrained');
    assert.equal(m.backbone.untrained, true);
    assert.match(m.backbone.hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(m.inputSize, { height: 64, width: 32 });
    assert.match(m.labelSnapshotHash, /^[0-9a-f]{64}$/);
    assert.equal(m.settings.epochs, 10);
    // The head's conditioning is part of the recorded procedure (head/train.ts TRAINING_DEFAULTS).
    assert.equal(m.settings.standardize, true);
    assert.equal(m.settings.classWeights, 'balanced');
    assert.deepEqual(
      m.crossValidation.perBundle.map((b: { bundle: string }) => b.bundle),
      ['B1', 'B2', 'B3'],
    );
    const o = m.crossValidation.overall;
    assert.equal(o.tp + o.fp + o.tn + o.fn, 12);
    assert.equal(o.tp + o.fn, 6);
    assert.ok(o.balancedAccuracy >= 0 && o.balancedAccuracy <= 1);
    // Beside the binary table, the type head's pooled average precision: the 6 abnormal images show scratches,
    // no image shows another type, which therefore reports no number.
    assert.equal(m.settings.anomalyHead, '512x256x11');
    const types = m.crossValidation.anomalies;
    assert.equal(types.minPositives, 5);
    assert.deepEqual(
      types.perType.map((t: { code: string }) => t.code),
      ANOMALY_CODES,
    );
    assert.equal(types.perType[0].positives, 6);
    assert.equal(types.perType[0].images, 12);
    assert.ok(types.perType[0].averagePrecision >= 0.5 && types.perType[0].averagePrecision <= 1);
    assert.ok(
      types.perType[0].priorOnlyAveragePrecision > 0 && types.perType[0].priorOnlyAveragePrecision <= 1,
    );
    assert.equal(types.perType[1].averagePrecision, null);
    assert.match(types.perType[1].note, /^0 positive images \(fewer than 5\)/);

    const predictions = await app.server.services.db
      .selectFrom('predictions')
      .select(['image_id'])
      .where('model_version', '=', version)
      .execute();
    assert.equal(predictions.length, 15, 'labeled and unlabeled images are scored');
  });

  test('GET /api/images/:id/prediction gives P(abnormal), priority, reason and P(type) of the 11 types; experts see it only after voting', async () => {
    const id = unlabeled[0];
    const r = await app.request('GET', `/api/images/${id}/prediction`, { token: lead.token });
    assert.equal(r.status, 200);
    assert.equal(r.body.modelVersion, version);
    assert.ok(r.body.pAbnormal >= 0 && r.body.pAbnormal <= 1);
    assert.ok(r.body.priority >= 0 && r.body.priority <= 1);
    assert.match(r.body.reason, /^model (unsure|leaning|confident), P\(abnormal\) \d\.\d\d/);
    assert.deepEqual(
      r.body.anomalies.map((a: { code: string }) => a.code),
      ANOMALY_CODES,
    );
    for (const a of r.body.anomalies) assert.ok(a.p >= 0 && a.p <= 1, `${a.code}: ${a.p}`);
    // Scratches are the only type in the labels (half the images): the head ranks them above the never-seen types.
    const scratches = r.body.anomalies[0].p;
    assert.ok(
      r.body.anomalies.slice(1).every((a: { p: number }) => a.p < scratches),
      JSON.stringify(r.body.anomalies),
    );
    const resolved = await app.request('GET', `/api/images/${images[0].id}/prediction`, {
      token: lead.token,
    });
    assert.match(resolved.body.reason, /consensus \(normal\)/);

    // Blind: before voting an expert sees neither P(abnormal) nor the types, by no route.
    const blind = await app.request('GET', `/api/images/${id}/prediction`, { token: expert.token });
    assert.equal(blind.status, 403);
    assert.match(blind.body.detail, /^votes are blind: the model's prediction is shown after you vote/);
    assert.equal(blind.body.anomalies, undefined);
    const image = await app.request('GET', `/api/images/${id}`, { token: expert.token });
    assert.equal(image.status, 200);
    assert.equal(image.body.prediction, null);
    const vote = await app.request('PUT', `/api/images/${id}/votes/me`, {
      token: expert.token,
      json: { verdict: 'normal', anomalies: [] },
    });
    assert.equal(vote.status, 200, vote.text);
    assert.equal(
      (await app.request('GET', `/api/images/${id}/prediction`, { token: expert.token })).status,
      200,
    );

    const hint = await app.request('PUT', '/api/settings', {
      token: app.admin.token,
      json: { showModelHint: true },
    });
    assert.equal(hint.status, 200);
    const shown = await app.request('GET', `/api/images/${unlabeled[1]}/prediction`, { token: expert.token });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.anomalies.length, 11, 'model hints on: the types too, before voting');
    // The form pre-selects the likely types; the vote records which (and that the model hint was shown).
    const hinted = await app.request('PUT', `/api/images/${unlabeled[1]}/votes/me`, {
      token: expert.token,
      json: {
        verdict: 'abnormal',
        anomalies: ['scratches'],
        modelHintShown: true,
        anomalyHint: ['scratches'],
      },
    });
    assert.equal(hinted.status, 200, hinted.text);
    assert.deepEqual(hinted.body.anomalyHint, ['scratches']);
    await app.request('PUT', '/api/settings', { token: app.admin.token, json: { showModelHint: false } });

    const missing = await app.request('GET', '/api/images/999999/prediction', { token: lead.token });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.detail, 'no image with id 999999');
  });

  test("the merged ONNX export reproduces the runner's probabilities", async () => {
    const r = await fetch(`${app.url}/api/models/${version}/onnx`, {
      headers: { authorization: `Bearer ${lead.token}` },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-disposition')!, /platina-model-\d+-method1\.onnx/);
    const session = await ort.InferenceSession.create(new Uint8Array(await r.arrayBuffer()));
    const id = unlabeled[2];
    const { sha256 } = await app.server.services.db
      .selectFrom('images')
      .select('sha256')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const input = await modelInput({
      source: { path: path.join(app.config.dataDir, 'images', sha256) },
      conversion: { method: 1 },
      size: { height: 64, width: 32 },
    });
    const out = await session.run({ input: new ort.Tensor('float32', input.data, [1, 3, 64, 32]) });
    const probs = out.probabilities.data as Float32Array;
    const p = await app.request('GET', `/api/images/${id}/prediction`, { token: lead.token });
    assert.ok(Math.abs(probs[1] - p.body.pAbnormal) < 1e-4, `${probs[1]} vs ${p.body.pAbnormal}`);
    await session.release();
    const none = await app.request('GET', '/api/models/999999/onnx', { token: lead.token });
    assert.equal(none.status, 404);
  });

  test('a runner stopped mid-training hands the job back and leaves no model version; the retry succeeds', async () => {
    const r = await app.request('POST', '/api/models/train', {
      token: lead.token,
      json: { method: 1, crossValidate: true },
    });
    const first = runner();
    first.start();
    const db = app.server.services.db;
    for (let t0 = Date.now(); Date.now() - t0 < 60_000; await new Promise((res) => setTimeout(res, 20))) {
      const j = await db
        .selectFrom('jobs')
        .select(['status', 'progress'])
        .where('id', '=', r.body.jobId)
        .executeTakeFirstOrThrow();
      if (j.status === 'running' && j.progress > 0.35) break; // inside cross-validation
    }
    await first.stop(0);
    const job = await app.request('GET', `/api/jobs/${r.body.jobId}`, { token: lead.token });
    assert.equal(job.body.status, 'queued');
    assert.equal(job.body.message, 'runner stopped; will resume');
    const versions = await db.selectFrom('model_versions').select('id').execute();
    assert.equal(versions.length, 1, 'no half-written version');

    await runner().jobs.drain();
    const done = await app.request('GET', `/api/jobs/${r.body.jobId}`, { token: lead.token });
    assert.equal(done.body.status, 'succeeded', done.body.error);
    assert.match(done.body.result.activation, /^same settings as version \d+, retrained on 12 labels/);
    const models = await app.request('GET', '/api/models', { token: lead.token });
    assert.equal(models.body.length, 2);
    assert.equal(models.body[0].active, true);
    assert.equal(models.body[1].active, false);
    assert.equal(models.body[0].labelSnapshotHash, models.body[1].labelSnapshotHash);
  });

  test('the API stays responsive while the runner trains in the same process', async () => {
    const health = async () => {
      const t0 = performance.now();
      const h = await app.request('GET', '/api/health');
      assert.equal(h.status, 200);
      return performance.now() - t0;
    };
    const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(0.95 * (xs.length - 1))];
    const idle: number[] = [];
    for (let i = 0; i < 30; i++) idle.push(await health());

    const r = await app.request('POST', '/api/models/train', {
      token: lead.token,
      json: { method: 3, crossValidate: true },
    });
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const inProcess = runner();
    inProcess.start();
    const busy: number[] = [];
    for (;;) {
      busy.push(await health());
      const j = await app.request('GET', `/api/jobs/${r.body.jobId}`, { token: lead.token });
      if (j.body.status === 'succeeded' || j.body.status === 'failed') {
        assert.equal(j.body.status, 'succeeded', j.body.error);
        break;
      }
      await new Promise((res) => setTimeout(res, 10));
    }
    loop.disable();
    await inProcess.stop();
    const report =
      `GET /api/health p95 ${p95(busy).toFixed(1)} ms during training (${busy.length} requests), ` +
      `${p95(idle).toFixed(1)} ms idle; event loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, ` +
      `max ${(loop.max / 1e6).toFixed(1)} ms`;
    console.log(`# ${report}`);
    assert.ok(busy.length >= 10, `only ${busy.length} samples`);
    // Relative to the same machine's idle latency (the 2-core machine is shared): a blocked event loop
    // (training or decoding on the main thread) shows as seconds here.
    assert.ok(p95(busy) < Math.max(250, 3 * p95(idle) + 100), report);
  });
});
