import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { buildTiff } from '../../../lib/imaging/tiff-fixtures.ts';

/**
 * Excluding and restoring an image (issue 15): a wrong upload leaves the queue, the statistics, the dataset bounds
 * and the exports' counts, keeps its votes, comes back on restore; both actions are in the history and exports.
 */
let app: TestApp;
let lead: TestUser;
let expert: TestUser;
let good: string;
let wrong: string;

/** A 10×10 16-bit image: all pixels `base`, one at `lo` and one at `hi` (p0.01 and p99.99 of 100 pixels). */
function tiff(base: number, lo: number, hi: number): Uint8Array {
  const px = new Uint16Array(100).fill(base);
  px[0] = lo;
  px[1] = hi;
  return new Uint8Array(buildTiff({ width: 10, height: 10, data: px }));
}

const upload = async (bytes: Uint8Array, name: string) => {
  const r = await app.request('POST', `/api/images?bundle=excl&name=${name}`, {
    token: lead.token,
    body: bytes,
  });
  assert.equal(r.status, 201, r.text);
  return r.body.id as string;
};
const get = (path: string, user = lead) => app.request('GET', path, { token: user.token });
const exclude = (id: string, reason: unknown, user = lead) =>
  app.request('PUT', `/api/images/${id}/exclusion`, { token: user.token, json: { reason } });
const restore = (id: string, user = lead, reason?: string) =>
  app.request(
    'DELETE',
    `/api/images/${id}/exclusion${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`,
    {
      token: user.token,
    },
  );
const stats = async () => (await get('/api/dataset/stats')).body;

before(async () => {
  app = await startTestApp();
  lead = await app.user('lead');
  expert = await app.user('expert');
  good = await upload(tiff(2000, 1749, 2790), 'good.tif');
  wrong = await upload(tiff(30000, 300, 65500), 'wrong.tif'); // a test exposure: far outside
  // The expert votes on the wrong image before anyone notices: the vote must survive the exclusion.
  const v = await app.request('PUT', `/api/images/${wrong}/votes/me`, {
    token: expert.token,
    json: { verdict: 'abnormal', anomalies: [] },
  });
  assert.equal(v.status, 200, v.text);
});
after(() => app?.close());

describe('excluding an image', () => {
  test('bad requests change nothing: no reason → 422, expert → 403, no image → 404', async () => {
    const none = await exclude(wrong, '  ');
    assert.equal(none.status, 422);
    assert.equal(none.body.detail, 'reason: is required: say why the image is excluded');
    const missing = await app.request('PUT', `/api/images/${wrong}/exclusion`, {
      token: lead.token,
      json: {},
    });
    assert.equal(missing.status, 422);
    assert.match(missing.body.detail, /^reason: /);
    const byExpert = await exclude(wrong, 'not an electrode', expert);
    assert.equal(byExpert.status, 403);
    assert.equal(byExpert.body.detail, 'this needs the role lead or admin; you are expert');
    const nowhere = await exclude('987654', 'not an electrode');
    assert.equal(nowhere.status, 404);
    assert.equal(nowhere.body.detail, 'no image with id 987654');
    const notExcluded = await restore(wrong);
    assert.equal(notExcluded.status, 409);
    assert.equal(notExcluded.body.detail, `image ${wrong} is not excluded`);
    assert.equal((await get(`/api/images/${wrong}`)).body.excluded, null);
    assert.deepEqual((await get(`/api/images/${wrong}/exclusions`)).body, []);
  });

  test('with a reason: the image says who excluded it, when and why; twice → 409', async () => {
    const r = await exclude(wrong, 'test exposure, not an electrode');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, wrong);
    assert.equal(r.body.excluded.by, lead.username);
    assert.equal(r.body.excluded.reason, 'test exposure, not an electrode');
    assert.ok(Date.parse(r.body.excluded.at) > 0);
    const again = await exclude(wrong, 'again');
    assert.equal(again.status, 409);
    assert.equal(again.body.detail, `image ${wrong} is excluded already`);
  });

  test('it leaves the queue: a new expert gets the included image, then nothing', async () => {
    const other = await app.user('expert');
    const first = await get('/api/queue/next', other);
    assert.equal(first.status, 200);
    assert.equal(first.body.id, good);
    const next = await app.request('GET', `/api/queue/next?exclude=${good}`, { token: other.token });
    assert.equal(next.status, 204, 'the excluded image is never handed out');
    assert.deepEqual((await get('/api/queue/stats', other)).body.remaining, 1);
  });

  test('it leaves the statistics and the dataset bounds', async () => {
    const s = await stats();
    assert.deepEqual([s.images, s.excludedImages, s.globalMin, s.globalMax], [1, 1, 1700, 2800]);
    assert.equal(
      s.histogram.counts.reduce((a: number, b: number) => a + b, 0),
      100,
      'only the included image',
    );
    const bundle = (await get('/api/bundles')).body.find((b: { name: string }) => b.name === 'excl');
    assert.deepEqual([bundle.images, bundle.excluded, bundle.labeled], [1, 1, 0]);
    const agreement = (await get('/api/metrics/agreement')).body;
    assert.equal(agreement.votes, 0, "the excluded image's vote is out of the agreement figures");
  });

  test('its votes stay in the history', async () => {
    const history = (await get(`/api/images/${wrong}/votes/history`)).body;
    assert.equal(history.length, 1);
    assert.equal(history[0].verdict, 'abnormal');
  });

  test('the list can show excluded or included images only', async () => {
    const only = (await get('/api/images?excluded=true')).body.items.map((i: { id: string }) => i.id);
    assert.deepEqual(only, [wrong]);
    const included = (await get('/api/images?excluded=false')).body.items.map((i: { id: string }) => i.id);
    assert.deepEqual(included, [good]);
    const bad = await get('/api/images?excluded=maybe');
    assert.equal(bad.status, 422);
    assert.equal(bad.body.detail, 'query.excluded: must be true or false');
  });

  test('restored: back in the statistics, bounds and queue, with its vote; both actions in the history', async () => {
    const r = await restore(wrong, lead, 'it was a real electrode after all');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.excluded, null);
    const s = await stats();
    assert.deepEqual([s.images, s.excludedImages, s.globalMin, s.globalMax], [2, 0, 300, 65500]);
    assert.equal((await get('/api/metrics/agreement')).body.votes, 1, 'its vote counts again');
    const other = await app.user('expert');
    const offered = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const n = await app.request('GET', `/api/queue/next?exclude=${[...offered].join(',')}`, {
        token: other.token,
      });
      assert.equal(n.status, 200);
      offered.add(n.body.id);
    }
    assert.deepEqual([...offered].sort(), [good, wrong].sort());

    const history = (await get(`/api/images/${wrong}/exclusions`)).body;
    assert.deepEqual(
      history.map((e: { action: string; reason: string | null; by: string }) => [e.action, e.reason, e.by]),
      [
        ['exclude', 'test exposure, not an electrode', lead.username],
        ['restore', 'it was a real electrode after all', lead.username],
      ],
    );
    assert.equal((await get(`/api/images/${wrong}/exclusions`, expert)).status, 403);
  });

  test('exports: labels carry the exclusion in force, exclusions.csv every action', async () => {
    assert.equal((await exclude(good, 'duplicate of another electrode')).status, 200);
    const labels = JSON.parse((await get('/api/exports/labels.json')).text);
    const row = labels.find((l: { imageId: string }) => l.imageId === good);
    assert.equal(row.excluded.reason, 'duplicate of another electrode');
    assert.equal(row.excluded.by, lead.username);
    assert.equal(labels.find((l: { imageId: string }) => l.imageId === wrong).excluded, null);

    const csv = (await get('/api/exports/labels.csv')).text.trim().split('\r\n');
    const header = csv[0].split(',');
    const goodRow = csv.find((line) => line.startsWith(`${good},`))!.split(',');
    assert.equal(goodRow[header.indexOf('excluded')], 'true');
    assert.equal(goodRow[header.indexOf('exclusion_reason')], 'duplicate of another electrode');

    const events = (await get('/api/exports/exclusions.csv')).text.trim().split('\r\n');
    assert.equal(events[0], 'event_id,image_id,bundle,name,sha256,action,reason,username,created_at');
    assert.equal(events.length, 4);
    // Each line: id, image, bundle, name, sha256, then action, reason (quoted when it holds a comma), who.
    assert.match(
      events[1],
      new RegExp(
        `^\\d+,${wrong},excl,wrong\\.tif,[0-9a-f]{64},exclude,"test exposure, not an electrode",${lead.username},`,
      ),
    );
    assert.match(
      events[2],
      new RegExp(
        `^\\d+,${wrong},excl,wrong\\.tif,[0-9a-f]{64},restore,it was a real electrode after all,${lead.username},`,
      ),
    );
    assert.match(
      events[3],
      new RegExp(
        `^\\d+,${good},excl,good\\.tif,[0-9a-f]{64},exclude,duplicate of another electrode,${lead.username},`,
      ),
    );
    assert.equal((await get('/api/exports/exclusions.csv', expert)).status, 403);
  });
});
