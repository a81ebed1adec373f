import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { encodeTiff } from '../../../lib/imaging/tiff-write.ts';
import { tinyBackbone } from '../../../model-runner/src/backbone/fixtures.ts';
import { createModelRunner, type ModelRunner } from '../../../model-runner/src/runner/index.ts';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';

/**
 * The active loop's scheduler (issue 7) against the real API: automatic retraining after `retrainEvery`
 * new labels, priorities that follow the votes, and embedding of new uploads. A tiny stand-in backbone
 * keeps it fast (the ResNet-34 path is covered by models.test.ts).
 */
describe('active loop', () => {
  let app: TestApp;
  let lead: TestUser;
  let runner: ModelRunner;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-active-loop-'));
  const ids: string[] = [];

  before(async () => {
    fs.writeFileSync(path.join(dir, 'tiny.onnx'), tinyBackbone({ seed: 3 }).bytes);
    app = await startTestApp();
    lead = await app.user('lead');
    runner = createModelRunner({
      db: app.server.services.db,
      logger: pino({ level: 'silent' }),
      dataDir: app.config.dataDir,
      // 'paper': the loop's bookkeeping is what this file tests; fused features: evidence-loop.test.ts.
      env: {
        PLATINA_BACKBONE: path.join(dir, 'tiny.onnx'),
        PLATINA_INPUT_SIZE: '64x32',
        PLATINA_EP: 'cpu',
        PLATINA_FEATURES: 'paper',
      },
      schedule: false,
    });
    for (let n = 0; n < 6; n++) {
      const px = new Uint16Array(32 * 64).map((_, i) => 2000 + ((i * (n + 3)) % 500));
      const r = await app.request('POST', `/api/images?bundle=B${(n % 2) + 1}&name=i${n}.tif`, {
        token: lead.token,
        body: encodeTiff({ width: 32, height: 64, bitDepth: 16 }, px),
        headers: { 'content-type': 'image/tiff' },
      });
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id);
    }
  });
  after(async () => {
    await runner.stop();
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('new uploads are embedded by one job for the batch; nothing is enqueued once they are', async () => {
    // The scheduler never waits for the backbone to load: until it has, it enqueues nothing.
    await runner.resources.backbone();
    const jobId = await runner.scheduler.embedNewImages();
    assert.ok(jobId);
    const job = await app.request('GET', `/api/jobs/${jobId}`, { token: lead.token });
    assert.equal(job.body.kind, 'embed');
    await runner.jobs.drain();
    const done = await app.request('GET', `/api/jobs/${jobId}`, { token: lead.token });
    assert.equal(done.body.status, 'succeeded', done.body.error);
    assert.deepEqual(done.body.result, { modelVersion: null, embedded: 6, scored: 0 });
    const rows = await app.server.services.db.selectFrom('embeddings').select('sha256').execute();
    assert.equal(rows.length, 6 * 4, 'four flips per image');
    assert.equal(await runner.scheduler.embedNewImages(), null);
  });

  test('retraining starts after retrainEvery new resolved labels, at most one queued at a time', async () => {
    const put = await app.request('PUT', '/api/settings', {
      token: app.admin.token,
      json: { retrainEvery: 4 },
    });
    assert.equal(put.status, 200);
    const resolve = (id: string, verdict: 'normal' | 'abnormal') =>
      app.request('PUT', `/api/images/${id}/resolution`, {
        token: lead.token,
        json: { verdict, anomalies: [], reason: 'label' },
      });
    for (const [k, v] of ['normal', 'abnormal', 'normal'].entries())
      assert.equal((await resolve(ids[k], v as never)).status, 200);
    assert.equal(await runner.scheduler.maybeRetrain(), null, '3 new labels < 4');
    assert.equal((await resolve(ids[3], 'abnormal')).status, 200);
    const jobId = await runner.scheduler.maybeRetrain();
    assert.ok(jobId, 'the 4th label starts a training');
    assert.equal(await runner.scheduler.maybeRetrain(), null, 'no new labels since that training');
    const job = await app.server.services.db
      .selectFrom('jobs')
      .select(['kind', 'payload', 'key'])
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();
    assert.equal(job.kind, 'train');
    assert.equal(job.key, 'train:auto');
    assert.deepEqual(job.payload, { method: 2, crossValidate: false, auto: true, force: false, seed: 0 });

    const ran = await runner.jobs.drain();
    assert.deepEqual(
      ran.map((j) => j.kind),
      ['train', 'score'],
    );
    const models = await app.request('GET', '/api/models', { token: lead.token });
    assert.equal(models.body.length, 1);
    assert.equal(models.body[0].active, true);
    assert.equal(models.body[0].backbone.kind, 'custom');
    assert.equal(models.body[0].crossValidation, null);
    // The version records the method-2 bounds it was trained under (issue 15): those in force now.
    const stats = (await app.request('GET', '/api/dataset/stats', { token: lead.token })).body;
    assert.deepEqual(models.body[0].globalBounds, [
      { bitDepth: 16, lo: stats.globalMin, hi: stats.globalMax, pinned: false },
    ]);
    assert.equal(stats.activeModel.boundsMoved, false);

    // Votes on images the lead already decided change no label: they are not new labels to learn from.
    for (let n = 0; n < 4; n++) {
      const expert = await app.user('expert');
      const v = await app.request('PUT', `/api/images/${ids[n]}/votes/me`, {
        token: expert.token,
        json: { verdict: 'normal', anomalies: [] },
      });
      assert.equal(v.status, 200);
    }
    assert.equal(await runner.scheduler.maybeRetrain(), null, 'confirming votes are not new labels');
  });

  test("a vote changes the image's priority and reason, and the queue orders by it", async () => {
    const expertA = await app.user('expert');
    const expertB = await app.user('expert');
    const id = ids[4];
    const before = await app.request('GET', `/api/images/${id}/prediction`, { token: lead.token });
    assert.equal(before.status, 200);
    assert.match(before.body.reason, /^model (unsure|leaning|confident)/);
    await runner.scheduler.refreshPriorities(); // baseline: later refreshes see only later changes
    for (const [e, verdict] of [
      [expertA, 'normal'],
      [expertB, 'abnormal'],
    ] as const) {
      const v = await app.request('PUT', `/api/images/${id}/votes/me`, {
        token: e.token,
        json: { verdict, anomalies: [] },
      });
      assert.equal(v.status, 200, v.text);
    }
    assert.ok((await runner.scheduler.refreshPriorities()) >= 1);
    const after = await app.request('GET', `/api/images/${id}/prediction`, { token: lead.token });
    assert.match(after.body.reason, /^experts split 1–1: needs its next vote/);
    assert.ok(after.body.priority > 1.4 && after.body.priority > before.body.priority);
    // Recomputing the priority keeps the scored anomaly types.
    assert.equal(before.body.anomalies.length, 11);
    assert.deepEqual(after.body.anomalies, before.body.anomalies);
    // The split image outranks the fresh one for a third expert.
    const third = await app.user('expert');
    const next = await app.request('GET', '/api/queue/next', { token: third.token });
    assert.equal(next.status, 200);
    assert.equal(next.body.id, id);
  });
});
