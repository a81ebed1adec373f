import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { buildTiff } from '../../../lib/imaging/tiff-fixtures.ts';
import { buildActiveModel } from '../../../test/factories/votes.ts';

/**
 * Method 2's bounds that nobody moves by accident (issue 15): they come from included images, a lead can pin them,
 * an upload far outside them is flagged in its answer, and the stats say when the active model was trained under
 * other bounds.
 */
let app: TestApp;
let lead: TestUser;
let expert: TestUser;

/** A 10×10 16-bit image: all pixels `base`, one at `lo` and one at `hi` (p0.01 and p99.99 of 100 pixels). */
function tiff(base: number, lo: number, hi: number): Uint8Array {
  const px = new Uint16Array(100).fill(base);
  px[0] = lo;
  px[1] = hi;
  return new Uint8Array(buildTiff({ width: 10, height: 10, data: px }));
}
const upload = (bytes: Uint8Array, name: string) =>
  app.request('POST', `/api/images?bundle=bounds&name=${name}`, { token: lead.token, body: bytes });
const stats = async () => (await app.request('GET', '/api/dataset/stats', { token: expert.token })).body;
const pin = (body: unknown, user = lead) =>
  app.request('PUT', '/api/dataset/bounds', { token: user.token, json: body });
const unpin = (bits: number | string, user = lead) =>
  app.request('DELETE', `/api/dataset/bounds/${bits}`, { token: user.token });

before(async () => {
  app = await startTestApp();
  lead = await app.user('lead');
  expert = await app.user('expert');
});
after(() => app?.close());

describe('method-2 bounds', () => {
  test('an ordinary upload is not flagged; the bounds follow the included images', async () => {
    const a = await upload(tiff(2000, 1749, 27960), 'a.tif');
    assert.equal(a.status, 201);
    assert.deepEqual(a.body.upload, { duplicate: false, outsideBounds: null });
    const b = await upload(tiff(2100, 1800, 26000), 'b.tif');
    assert.deepEqual(
      b.body.upload,
      { duplicate: false, outsideBounds: null },
      'within a quarter of the width',
    );
    const s = await stats();
    assert.deepEqual(
      [s.globalMin, s.globalMax, s.pinned, s.computedMin, s.computedMax],
      [1700, 28000, false, 1700, 28000],
    );
    const again = await upload(tiff(2000, 1749, 27960), 'a-again.tif');
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.upload, { duplicate: true, outsideBounds: null });
  });

  test('bad pins → 422 and experts → 403, changing nothing; unpinning what is not pinned → 409', async () => {
    const cases: [unknown, string][] = [
      [
        { bitDepth: 16, globalMin: 5000, globalMax: 5000 },
        'globalMin/globalMax: lo (5000) must be below hi (5000)',
      ],
      [
        { bitDepth: 16, globalMin: 0, globalMax: 70000 },
        'globalMin/globalMax: must lie within 0–65535 for 16-bit images',
      ],
      [
        { bitDepth: 8, globalMin: 0, globalMax: 300 },
        'globalMin/globalMax: must lie within 0–255 for 8-bit images',
      ],
      [{ bitDepth: 12, globalMin: 0, globalMax: 300 }, 'bitDepth: must be 8 or 16'],
      [{ bitDepth: 16, globalMin: 1.5, globalMax: 300 }, 'globalMin: must be a whole number'],
    ];
    for (const [body, detail] of cases) {
      const r = await pin(body);
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.equal(r.body.detail, detail);
    }
    const byExpert = await pin({ bitDepth: 16, globalMin: 1000, globalMax: 2000 }, expert);
    assert.equal(byExpert.status, 403);
    assert.equal(byExpert.body.detail, 'this needs the role lead or admin; you are expert');
    const notPinned = await unpin(16);
    assert.equal(notPinned.status, 409);
    assert.equal(notPinned.body.detail, 'the 16-bit bounds are not pinned');
    assert.equal((await unpin(12)).status, 422);
    assert.equal((await stats()).pinned, false);
  });

  test('pinned bounds stay in force through an outlier upload, which is flagged', async () => {
    const p = await pin({ bitDepth: 16, globalMin: 1700, globalMax: 28000 });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual([p.body.globalMin, p.body.globalMax, p.body.pinned], [1700, 28000, true]);

    const outlier = await upload(tiff(30000, 300, 65500), 'outlier.tif');
    assert.equal(outlier.status, 201);
    assert.deepEqual(outlier.body.upload.outsideBounds, {
      before: { lo: 1700, hi: 28000, pinned: true },
      after: { lo: 1700, hi: 28000 },
      message:
        'its values 300–65500 (0.01–99.99 %) lie far outside the method-2 bounds 1700–28000, which are pinned and stay; exclude the image if it does not belong to the data set',
    });
    const s = await stats();
    assert.deepEqual([s.globalMin, s.globalMax, s.pinned], [1700, 28000, true]);
    assert.deepEqual(
      [s.computedMin, s.computedMax],
      [300, 65500],
      'what the images alone would give, shown beside',
    );
    // Previews of method 2 are made with the bounds in force.
    const preview = await app.request('GET', `/api/images/${outlier.body.id}/preview?method=2&width=8`, {
      token: expert.token,
    });
    assert.match(preview.headers.get('etag') ?? '', /-g1700-28000"$/);
  });

  test('unpinned, an outlier moves the bounds and says so; excluding it moves them back', async () => {
    const u = await unpin(16);
    assert.equal(u.status, 200);
    assert.deepEqual([u.body.globalMin, u.body.globalMax, u.body.pinned], [300, 65500, false]);
    const outlierId = (
      await app.request('GET', '/api/images?bundle=bounds', { token: lead.token })
    ).body.items.find((i: { name: string }) => i.name === 'outlier.tif').id;
    const ex = await app.request('PUT', `/api/images/${outlierId}/exclusion`, {
      token: lead.token,
      json: { reason: 'test exposure' },
    });
    assert.equal(ex.status, 200);
    assert.deepEqual([(await stats()).globalMin, (await stats()).globalMax], [1700, 28000]);

    const second = await upload(tiff(100, 50, 400), 'dark.tif');
    assert.deepEqual(second.body.upload.outsideBounds, {
      before: { lo: 1700, hi: 28000, pinned: false },
      after: { lo: 100, hi: 28000 }, // 50 rounds to 100 (paper 2.3: hundreds)
      message:
        'its values 50–400 (0.01–99.99 %) lie far outside the method-2 bounds 1700–28000: the bounds moved to 100–28000 for every image; exclude the image or pin the bounds to keep 1700–28000',
    });
  });

  test('the stats say when the active model was trained under other bounds', async () => {
    await buildActiveModel(app.server.services.db, [], {
      method: 2,
      globalBounds: [{ bitDepth: 16, lo: 1700, hi: 28000, pinned: false }],
    });
    let s = await stats();
    assert.deepEqual(s.activeModel, {
      version: s.activeModel.version,
      method: 2,
      trainedMin: 1700,
      trainedMax: 28000,
      boundsMoved: true, // 100–28000 since dark.tif
    });
    assert.equal((await pin({ bitDepth: 16, globalMin: 1700, globalMax: 28000 })).status, 200);
    s = await stats();
    assert.equal(s.activeModel.boundsMoved, false, 'pinned back to what it was trained under');
    await buildActiveModel(app.server.services.db, [], {
      method: 1,
      globalBounds: [{ bitDepth: 16, lo: 0, hi: 100, pinned: false }],
    });
    assert.equal((await stats()).activeModel.boundsMoved, false, 'method 1 does not read the bounds');
  });
});
