import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ScorePayload } from '../../../lib/jobs/payloads.ts';
import { enqueue } from '../../../lib/jobs/queue.ts';
import { JobRunner } from '../../../lib/jobs/worker.ts';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';

describe('jobs API', () => {
  let app: TestApp;
  let lead: TestUser;
  let expert: TestUser;
  before(async () => {
    app = await startTestApp();
    lead = await app.user('lead');
    expert = await app.user('expert');
  });
  after(() => app.close());

  test('POST /api/models/train answers 202 with a job that GET /api/jobs/:id shows queued', async () => {
    const r = await app.request('POST', '/api/models/train', {
      token: lead.token,
      json: { method: 3, crossValidate: false },
    });
    assert.equal(r.status, 202);
    assert.match(r.body.jobId, /^\d+$/);
    const job = await app.request('GET', `/api/jobs/${r.body.jobId}`, { token: lead.token });
    assert.equal(job.status, 200);
    assert.equal(job.body.id, r.body.jobId);
    assert.equal(job.body.kind, 'train');
    assert.equal(job.body.status, 'queued');
    assert.equal(job.body.progress, 0);
    assert.equal(job.body.startedAt, null);
    assert.equal(job.body.finishedAt, null);
    assert.ok(!Number.isNaN(Date.parse(job.body.createdAt)));
    assert.equal('error' in job.body, false);
    const stored = await app.server.services.db
      .selectFrom('jobs')
      .select(['payload', 'created_by'])
      .where('id', '=', r.body.jobId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored.payload, { method: 3, crossValidate: false, auto: false, force: false, seed: 0 });
    assert.equal(stored.created_by, lead.id);
  });

  test('an expert may not start a training, and a bad method is 422 naming the field', async () => {
    const r = await app.request('POST', '/api/models/train', { token: expert.token, json: {} });
    assert.equal(r.status, 403);
    assert.match(r.body.detail, /this needs the role lead or admin; you are expert/);
    const bad = await app.request('POST', '/api/models/train', { token: lead.token, json: { method: 5 } });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /^method: must be 1, 2, 3 or 4/);
    const extra = await app.request('POST', '/api/models/train', {
      token: lead.token,
      json: { method: 1, epochs: 3 },
    });
    assert.equal(extra.status, 422);
    assert.match(extra.body.detail, /epochs/);
  });

  test('enqueue → runOnce: progress, then success, are visible through GET /api/jobs/:id', async () => {
    const db = app.server.services.db;
    const job = await enqueue(db, 'score', {});
    const seen: { status: string; progress: number; message: string }[] = [];
    const runner = new JobRunner({
      db,
      logger: pino({ level: 'silent' }),
      handlers: {
        score: {
          schema: ScorePayload,
          run: async (ctx) => {
            await ctx.progress(0.25, 'scoring 1/4');
            const r = await app.request('GET', `/api/jobs/${job!.id}`, { token: lead.token });
            seen.push({ status: r.body.status, progress: r.body.progress, message: r.body.message });
            return { scored: 4 };
          },
        },
      },
    });
    // Other queued jobs (the training above) have no handler here; drain only ours by draining all.
    await runner.drain();
    assert.deepEqual(seen, [{ status: 'running', progress: 0.25, message: 'scoring 1/4' }]);
    const r = await app.request('GET', `/api/jobs/${job!.id}`, { token: lead.token });
    assert.equal(r.body.status, 'succeeded');
    assert.equal(r.body.progress, 1);
    assert.deepEqual(r.body.result, { scored: 4 });
    assert.ok(Date.parse(r.body.startedAt) <= Date.parse(r.body.finishedAt));
  });

  test('a job that cannot run shows failed with its error', async () => {
    // The training enqueued in the first test ran in the previous test's drain without a `train` handler.
    const list = await app.request('GET', '/api/jobs?kind=train', { token: lead.token });
    assert.equal(list.status, 200);
    const train = list.body[0];
    assert.equal(train.status, 'failed');
    assert.equal(train.error, 'no handler for job kind "train"');
  });

  test('GET /api/jobs lists recent jobs newest first and filters by status', async () => {
    const r = await app.request('GET', '/api/jobs?limit=10', { token: app.admin.token });
    assert.equal(r.status, 200);
    assert.ok(r.body.length >= 2);
    const ids = r.body.map((j: { id: string }) => Number(j.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
    const ok = await app.request('GET', '/api/jobs?status=succeeded', { token: app.admin.token });
    assert.ok(ok.body.every((j: { status: string }) => j.status === 'succeeded'));
    const bad = await app.request('GET', '/api/jobs?status=done', { token: app.admin.token });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /^query\.status: /);
  });

  test('an unknown job is 404 and experts may not read jobs', async () => {
    const r = await app.request('GET', '/api/jobs/999999', { token: lead.token });
    assert.equal(r.status, 404);
    assert.equal(r.body.detail, 'no job with id 999999');
    const e = await app.request('GET', '/api/jobs/1', { token: expert.token });
    assert.equal(e.status, 403);
  });
});
