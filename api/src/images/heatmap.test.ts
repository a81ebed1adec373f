import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { EVIDENCE_VERSION } from '../../../lib/evidence.ts';
import { buildImages } from '../../../test/factories/votes.ts';
import { buildEvidence } from '../../../test/factories/images.ts';

let app: TestApp;
let lead: TestUser;
let expert: TestUser;
let withHeatmap: string;
let withoutHeatmap: string;
let oldVersionOnly: string;

const get = (p: string, user: TestUser) => app.request('GET', p, { token: user.token });
const setHints = async (on: boolean) => {
  const r = await app.request('PUT', '/api/settings', {
    token: app.admin.token,
    json: { showModelHint: on },
  });
  assert.equal(r.status, 200, r.text);
};

before(async () => {
  app = await startTestApp();
  lead = await app.user('lead');
  expert = await app.user('expert');
  const db = app.server.services.db;
  [withHeatmap, withoutHeatmap, oldVersionOnly] = await buildImages(db, { bundle: 'heat', count: 3 });
  // 3 × 2 cells; float32 cannot hold 1.23456 exactly, the answer rounds to 2 decimals anyway.
  await buildEvidence(db, withHeatmap, { width: 3, height: 2, values: [0.5, 1.23456, 2, 0, 7.891, 3.004] });
  await buildEvidence(db, oldVersionOnly, { width: 1, height: 1, values: [9] }, 'evidence-0');
});
after(() => app?.close());

describe('GET /api/images/:id/heatmap', () => {
  test('gives the current evidence definition’s grid, row-major, rounded to 2 decimals, with its max', async () => {
    const r = await get(`/api/images/${withHeatmap}/heatmap`, lead);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {
      version: EVIDENCE_VERSION,
      width: 3,
      height: 2,
      values: [0.5, 1.23, 2, 0, 7.89, 3],
      max: 7.89,
    });
  });

  test('an image whose evidence is not computed yet → 404 saying so', async () => {
    const r = await get(`/api/images/${withoutHeatmap}/heatmap`, lead);
    assert.equal(r.status, 404);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(
      r.body.detail,
      `image ${withoutHeatmap} has no heatmap yet: the model runner has not computed its evidence (${EVIDENCE_VERSION})`,
    );
  });

  test('a heatmap of an older evidence definition is not served as the current one → 404', async () => {
    const r = await get(`/api/images/${oldVersionOnly}/heatmap`, lead);
    assert.equal(r.status, 404);
    assert.match(r.body.detail, /has no heatmap yet/);
  });

  test('an unknown image → 404; a malformed id → 422 naming the parameter, both problem+json', async () => {
    const missing = await get('/api/images/987654/heatmap', lead);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), 'application/problem+json');
    assert.equal(missing.body.detail, 'no image with id 987654');
    const bad = await get('/api/images/abc/heatmap', lead);
    assert.equal(bad.status, 422);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
    assert.equal(bad.body.detail, 'id: must be an id');
  });

  test('without a token → 401', async () => {
    const r = await app.request('GET', `/api/images/${withHeatmap}/heatmap`);
    assert.equal(r.status, 401);
  });
});

describe('the heatmap is as blind as the prediction', () => {
  test('leads and admins always see it', async () => {
    assert.equal((await get(`/api/images/${withHeatmap}/heatmap`, lead)).status, 200);
    assert.equal((await get(`/api/images/${withHeatmap}/heatmap`, app.admin)).status, 200);
  });

  test('an expert who has not voted gets 403 while model hints are off — whether or not a heatmap exists', async () => {
    const detail =
      "votes are blind: the image's heatmap is shown after you vote on this image (an admin can enable model hints)";
    for (const id of [withHeatmap, withoutHeatmap]) {
      const r = await get(`/api/images/${id}/heatmap`, expert);
      assert.equal(r.status, 403, id);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.body.detail, detail);
    }
    // The same answer as the prediction's (models.service.ts), for the same reason.
    const prediction = await get(`/api/images/${withHeatmap}/prediction`, expert);
    assert.equal(prediction.status, 403);
  });

  test('with model hints on, every expert sees it', async () => {
    await setHints(true);
    try {
      const r = await get(`/api/images/${withHeatmap}/heatmap`, expert);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.max, 7.89);
      assert.equal((await get(`/api/images/${withoutHeatmap}/heatmap`, expert)).status, 404);
    } finally {
      await setHints(false);
    }
  });

  test('after voting on the image, the expert sees its heatmap (and still not another image’s)', async () => {
    const voter = await app.user('expert');
    const v = await app.request('PUT', `/api/images/${withHeatmap}/votes/me`, {
      token: voter.token,
      json: { verdict: 'abnormal', anomalies: [] },
    });
    assert.equal(v.status, 200, v.text);
    assert.equal((await get(`/api/images/${withHeatmap}/heatmap`, voter)).status, 200);
    assert.equal((await get(`/api/images/${withoutHeatmap}/heatmap`, voter)).status, 403);
  });
});
