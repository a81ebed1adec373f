import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import { buildTiff } from '../../../lib/imaging/tiff-fixtures.ts';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app?.close());

const stats = async () => (await app.request('GET', '/api/dataset/stats', { token: app.admin.token })).body;
const upload = (name: string, px: Uint16Array, width: number) =>
  app.request('POST', `/api/images?bundle=d&name=${name}`, {
    token: app.admin.token,
    body: new Uint8Array(buildTiff({ width, height: px.length / width, data: px })),
  });

test('an empty data set has no bounds and an empty histogram; no bundles, no images', async () => {
  assert.deepEqual(await stats(), {
    globalMin: null,
    globalMax: null,
    bitDepth: null,
    images: 0,
    histogram: { binEdges: [], counts: [] },
    byBitDepth: [],
    excludedImages: 0,
    pinned: false,
    computedMin: null,
    computedMax: null,
    activeModel: null,
  });
  assert.deepEqual((await app.request('GET', '/api/bundles', { token: app.admin.token })).body, []);
  assert.deepEqual((await app.request('GET', '/api/images', { token: app.admin.token })).body, {
    items: [],
    nextCursor: null,
  });
});

test('bounds and the summed histogram follow every new image (paper 2.3: 1749 → 1700, 27960 → 28000)', async () => {
  const a = new Uint16Array(100).fill(2000);
  a[0] = 1749; // 100 pixels: p0.01 is the minimum, p99.99 the maximum
  a[1] = 2790;
  assert.equal((await upload('a.tif', a, 10)).status, 201);
  let s = await stats();
  assert.deepEqual([s.globalMin, s.globalMax, s.images], [1700, 2800, 1]);
  assert.equal(s.histogram.counts[Math.floor(2000 / 64)], 98);
  assert.equal(
    s.histogram.counts.reduce((x: number, y: number) => x + y, 0),
    100,
  );

  const b = new Uint16Array(50).fill(2100);
  b[7] = 27960;
  assert.equal((await upload('b.tif', b, 5)).status, 201);
  s = await stats();
  assert.deepEqual([s.globalMin, s.globalMax, s.images], [1700, 28000, 2]);
  assert.equal(
    s.histogram.counts.reduce((x: number, y: number) => x + y, 0),
    150,
  );
  assert.equal(s.histogram.counts[Math.floor(27960 / 64)], 1);
  assert.deepEqual(s.byBitDepth, [
    {
      bitDepth: 16,
      images: 2,
      globalMin: 1700,
      globalMax: 28000,
      pinned: false,
      computedMin: 1700,
      computedMax: 28000,
    },
  ]);
});
