import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { computeStats } from '../../../lib/imaging/stats.ts';
import { buildTiff } from '../../../lib/imaging/tiff-fixtures.ts';
import { buildActiveModel } from '../../../test/factories/votes.ts';
import { encodeCursor } from './images.service.ts';

let app: TestApp;
let lead: TestUser;
let expert: TestUser;

before(async () => {
  app = await startTestApp({ PLATINA_MAX_UPLOAD_MB: '1' });
  lead = await app.user('lead');
  expert = await app.user('expert');
});
after(() => app?.close());

/** A 16-bit image whose statistics are easy to state: a ramp from `base` plus one bright pixel. */
function ramp16(width: number, height: number, base: number, bright = base + width * height): Uint8Array {
  const px = Uint16Array.from({ length: width * height }, (_, i) => base + i);
  px[px.length - 1] = bright;
  return new Uint8Array(buildTiff({ width, height, data: px }));
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const upload = (bytes: Uint8Array, bundle: string, name: string, user = lead) =>
  app.request('POST', `/api/images?bundle=${encodeURIComponent(bundle)}&name=${encodeURIComponent(name)}`, {
    token: user.token,
    body: bytes,
    headers: { 'content-type': 'image/tiff' },
  });
const files = (dir: string) => {
  const p = path.join(app.config.dataDir, dir);
  return existsSync(p) ? readdirSync(p) : [];
};
const get = (p: string, user: TestUser = lead, headers: Record<string, string> = {}) =>
  app.request('GET', p, { token: user.token, headers });

function pngSize(text: string | ArrayBuffer) {
  const b = Buffer.from(text as ArrayBuffer);
  return {
    signature: b.subarray(1, 4).toString('latin1'),
    width: b.readUInt32BE(16),
    height: b.readUInt32BE(20),
  };
}
async function fetchPng(p: string, user: TestUser = lead, headers: Record<string, string> = {}) {
  const res = await fetch(app.url + p, { headers: { authorization: `Bearer ${user.token}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe('uploading images', () => {
  const first = ramp16(100, 100, 1700, 27960); // 10 000 pixels: p0.01 = rank 1, p99.99 = rank 9999

  test('a 16-bit grayscale TIFF is stored with exact statistics → 201', async () => {
    const r = await upload(first, 'bundle-A', 'a-001.tif');
    assert.equal(r.status, 201, r.text);
    const stats = computeStats({
      width: 100,
      height: 100,
      bitDepth: 16,
      data: Uint16Array.from({ length: 1e4 }, (_, i) => (i === 9999 ? 27960 : 1700 + i)),
    });
    assert.deepEqual(
      { ...r.body, id: undefined, createdAt: undefined },
      {
        id: undefined,
        bundle: 'bundle-A',
        name: 'a-001.tif',
        width: 100,
        height: 100,
        bitDepth: 16,
        sha256: sha(first),
        byteSize: first.length,
        createdAt: undefined,
        status: 'unlabeled',
        stats: { min: 1700, max: 27960, p0_01: 1700, p99_99: 1700 + 9998 },
        prediction: null,
        excluded: null,
        upload: { duplicate: false, outsideBounds: null },
      },
    );
    assert.equal(stats.p99_99, 11698);
    assert.ok(existsSync(path.join(app.config.dataDir, 'images', sha(first))));
    assert.deepEqual(files('tmp'), []);
  });

  test('the same bytes again → 200 with the existing image, whatever bundle and name are given', async () => {
    const before = await get('/api/images?bundle=bundle-A');
    const r = await upload(first, 'other-bundle', 'copy.tif');
    assert.equal(r.status, 200);
    assert.equal(r.body.id, before.body.items[0].id);
    assert.equal(r.body.bundle, 'bundle-A');
    assert.equal(r.body.name, 'a-001.tif');
    const bundles = await get('/api/bundles');
    assert.ok(!bundles.body.some((b: { name: string }) => b.name === 'other-bundle'), 'no bundle created');
  });

  test('uploading the same bytes restores a stored file that went missing', async () => {
    const id = (await get('/api/images?bundle=bundle-A')).body.items[0].id;
    rmSync(path.join(app.config.dataDir, 'images', sha(first)));
    const broken = await get(`/api/images/${id}/raw`);
    assert.equal(broken.status, 503);
    assert.equal(
      broken.body.detail,
      `the file of image ${id} is missing from the image store (${sha(first)})`,
    );
    const r = await upload(first, 'bundle-A', 'a-001.tif');
    assert.equal(r.status, 200);
    assert.equal((await get(`/api/images/${id}/raw`)).status, 200);
  });

  test('an 8-bit grayscale TIFF is accepted', async () => {
    const px = Uint8Array.from({ length: 64 }, (_, i) => 10 + i);
    const r = await upload(new Uint8Array(buildTiff({ width: 8, height: 8, data: px })), 'eight', 'e.tif');
    assert.equal(r.status, 201);
    assert.equal(r.body.bitDepth, 8);
    assert.deepEqual(r.body.stats, { min: 10, max: 73, p0_01: 10, p99_99: 73 });
  });

  const rejected: [string, Uint8Array, string][] = [
    [
      'an RGB TIFF',
      new Uint8Array(buildTiff({ width: 4, height: 4, data: new Uint8Array(48), samplesPerPixel: 3 })),
      'Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is an RGB TIFF with 3 samples per pixel of 8 bits.',
    ],
    [
      'a float TIFF',
      new Uint8Array(buildTiff({ width: 4, height: 4, data: new Float32Array(16), sampleFormat: 3 })),
      'Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is a 32-bit float TIFF.',
    ],
    [
      'a PNG',
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0),
      'Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is not a TIFF (starts with bytes 89 50 4E 47: a PNG).',
    ],
    [
      'an empty body',
      new Uint8Array(0),
      'Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is an empty file (0 bytes).',
    ],
  ];
  for (const [what, bytes, detail] of rejected) {
    test(`${what} → 422 saying what it is; no row, no bundle, no file`, async () => {
      const imagesBefore = files('images');
      const r = await upload(bytes, 'rejects', 'bad.tif');
      assert.equal(r.status, 422);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.body.detail, detail);
      assert.deepEqual(files('images'), imagesBefore);
      assert.deepEqual(files('tmp'), []);
      const list = await get('/api/images?bundle=rejects');
      assert.deepEqual(list.body.items, []);
      assert.ok(!(await get('/api/bundles')).body.some((b: { name: string }) => b.name === 'rejects'));
    });
  }

  test('a body over PLATINA_MAX_UPLOAD_MB → 413, nothing stored', async () => {
    const big = new Uint8Array(1024 * 1024 + 1);
    const r = await upload(big, 'big', 'big.tif');
    assert.equal(r.status, 413);
    assert.equal(r.body.detail, 'the upload is larger than the limit of 1 MB (PLATINA_MAX_UPLOAD_MB)');
    assert.deepEqual(files('tmp'), []);
  });

  test('a streamed body without Content-Length is cut off at the limit → 413, nothing stored', async () => {
    const imagesBefore = files('images');
    const chunk = new Uint8Array(256 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 6) controller.close();
        else {
          sent++;
          controller.enqueue(chunk);
        }
      },
    });
    const res = await fetch(`${app.url}/api/images?bundle=big&name=stream.tif`, {
      method: 'POST',
      headers: { authorization: `Bearer ${lead.token}`, 'content-type': 'image/tiff' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(
      ((await res.json()) as { detail: string }).detail,
      'the upload is larger than the limit of 1 MB (PLATINA_MAX_UPLOAD_MB)',
    );
    assert.deepEqual(files('tmp'), []);
    assert.deepEqual(files('images'), imagesBefore);
  });

  test('a client that disconnects mid-upload leaves no temporary file and no image', async () => {
    const imagesBefore = files('images');
    const req = http.request(`${app.url}/api/images?bundle=gone&name=half.tif`, {
      method: 'POST',
      headers: { authorization: `Bearer ${lead.token}`, 'content-length': '500000' },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(200000));
    for (let i = 0; i < 50 && files('tmp').length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(files('tmp').length, 1, 'the upload is being received into tmp/');
    req.destroy();
    for (let i = 0; i < 50 && files('tmp').length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(files('tmp'), []);
    assert.deepEqual(files('images'), imagesBefore);
    assert.deepEqual((await get('/api/images?bundle=gone')).body.items, []);
  });

  test('missing or bad bundle and name → 422 naming the field', async () => {
    const tiff = ramp16(4, 4, 100);
    const noBundle = await app.request('POST', '/api/images?name=x.tif', { token: lead.token, body: tiff });
    assert.equal(noBundle.status, 422);
    assert.match(noBundle.body.detail, /^query\.bundle: /);
    const slash = await upload(tiff, 'b', '../etc/passwd');
    assert.equal(slash.status, 422);
    assert.equal(slash.body.detail, 'query.name: must not contain slashes or control characters');
    const blank = await upload(tiff, '   ', 'x.tif');
    assert.equal(blank.status, 422);
    assert.equal(blank.body.detail, 'query.bundle: must not be empty');
  });

  test('experts may not upload → 403', async () => {
    const r = await upload(ramp16(4, 4, 100), 'b', 'x.tif', expert);
    assert.equal(r.status, 403);
    assert.equal(r.body.detail, 'this needs the role admin or lead; you are expert');
  });
});

describe('reading images', () => {
  let ids: string[] = [];
  before(async () => {
    for (let k = 0; k < 5; k++) {
      const r = await upload(ramp16(20, 30, 2000 + 100 * k), k < 3 ? 'paging-1' : 'paging-2', `p${k}.tif`);
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id);
    }
  });

  test('GET /api/images/:id → the image; an unknown id → 404', async () => {
    const r = await get(`/api/images/${ids[0]}`, expert);
    assert.equal(r.status, 200);
    assert.equal(r.body.name, 'p0.tif');
    const missing = await get('/api/images/987654');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.detail, 'no image with id 987654');
  });

  test('the list pages through all images in upload order with an opaque cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await get(
        `/api/images?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(r.status, 200);
      assert.ok(r.body.items.length <= 2);
      seen.push(...r.body.items.map((i) => i.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => Number(a) - Number(b)),
    );
    for (const id of ids) assert.ok(seen.includes(id));
  });

  test('the list filters by bundle and by status', async () => {
    const b2 = await get('/api/images?bundle=paging-2');
    assert.deepEqual(
      b2.body.items.map((i: { name: string }) => i.name),
      ['p3.tif', 'p4.tif'],
    );
    assert.equal(b2.body.nextCursor, null);
    const unlabeled = await get('/api/images?bundle=paging-1&status=unlabeled');
    assert.equal(unlabeled.body.items.length, 3);
    const pending = await get('/api/images?bundle=paging-1&status=pending');
    assert.deepEqual(pending.body.items, []);
  });

  test('a voted image shows as pending', async () => {
    const v = await app.request('PUT', `/api/images/${ids[1]}/votes/me`, {
      token: expert.token,
      json: { verdict: 'normal', anomalies: [] },
    });
    assert.equal(v.status, 200, v.text);
    const pending = await get('/api/images?status=pending');
    assert.deepEqual(
      pending.body.items.map((i: { id: string }) => i.id),
      [ids[1]],
    );
  });

  test('bad list parameters → 422 naming the parameter', async () => {
    const status = await get('/api/images?status=done');
    assert.equal(status.status, 422);
    assert.match(status.body.detail, /^query\.status: /);
    const cursor = await get('/api/images?cursor=bm9wZQ');
    assert.equal(cursor.status, 422);
    assert.equal(cursor.body.detail, 'query.cursor: not a cursor this API handed out');
    const limit = await get('/api/images?limit=501');
    assert.equal(limit.status, 422);
    assert.match(limit.body.detail, /^query\.limit: /);
    assert.equal((await get(`/api/images?cursor=${encodeCursor('999999')}`)).body.items.length, 0);
  });

  test('/raw returns the original bytes as image/tiff, cacheable by content', async () => {
    const original = ramp16(20, 30, 2000);
    const res = await fetch(`${app.url}/api/images/${ids[0]}/raw`, {
      headers: { authorization: `Bearer ${expert.token}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/tiff');
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), original);
    const etag = res.headers.get('etag')!;
    assert.equal(etag, `"${sha(original)}"`);
    const again = await fetch(`${app.url}/api/images/${ids[0]}/raw`, {
      // fetch adds `Cache-Control: no-cache` to a request with If-None-Match unless one is given (as a browser
      // cache's revalidation does not send it).
      headers: {
        authorization: `Bearer ${expert.token}`,
        'if-none-match': etag,
        'cache-control': 'max-age=0',
      },
    });
    assert.equal(again.status, 304);
    assert.equal((await get('/api/images/987654/raw')).status, 404);
  });
  test('leads see the active model’s prediction; experts only while showModelHint is on (blind votes)', async () => {
    const version = await buildActiveModel(app.server.services.db, [{ imageId: ids[2], pAbnormal: 0.75 }]);
    const asLead = await get(`/api/images/${ids[2]}`);
    assert.deepEqual(asLead.body.prediction, { modelVersion: version, pAbnormal: 0.75 });
    assert.equal((await get(`/api/images/${ids[0]}`)).body.prediction, null, 'no prediction for this image');
    assert.equal((await get(`/api/images/${ids[2]}`, expert)).body.prediction, null);
    const listed = await get('/api/images?bundle=paging-1', expert);
    assert.ok(listed.body.items.every((i: { prediction: unknown }) => i.prediction === null));
    const on = await app.request('PUT', '/api/settings', {
      token: app.admin.token,
      json: { showModelHint: true },
    });
    assert.equal(on.status, 200, on.text);
    assert.deepEqual((await get(`/api/images/${ids[2]}`, expert)).body.prediction, {
      modelVersion: version,
      pAbnormal: 0.75,
    });
    await app.request('PUT', '/api/settings', { token: app.admin.token, json: { showModelHint: false } });
  });
});

describe('previews and the data set', () => {
  let imageId: string;
  before(async () => {
    const r = await upload(ramp16(120, 200, 1800, 2900), 'previews', 'pv.tif');
    imageId = r.body.id;
  });

  for (const method of [1, 2, 3, 4]) {
    test(`method ${method}: a PNG of the requested width, aspect ratio kept (${method === 4 ? 'RGB' : 'gray'})`, async () => {
      const r = await fetchPng(`/api/images/${imageId}/preview?method=${method}&width=60`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'image/png');
      const png = pngSize(r.bytes.buffer as ArrayBuffer);
      assert.deepEqual(png, { signature: 'PNG', width: 60, height: 100 });
      assert.equal(r.bytes[25], method === 4 ? 2 : 0); // colour type: RGB or gray
    });
  }

  test('without width a preview is 512 wide, but never wider than the image', async () => {
    const r = await fetchPng(`/api/images/${imageId}/preview?method=1`);
    assert.equal(pngSize(r.bytes.buffer as ArrayBuffer).width, 120);
  });

  test('previews are cached on disk and revalidated by ETag', async () => {
    const r = await fetchPng(`/api/images/${imageId}/preview?method=3&width=60`);
    const again = await fetchPng(`/api/images/${imageId}/preview?method=3&width=60`, lead, {
      'if-none-match': r.headers.get('etag')!,
      'cache-control': 'max-age=0',
    });
    assert.equal(again.status, 304);
    const sha256 = (await get(`/api/images/${imageId}`)).body.sha256;
    assert.ok(files(path.join('previews', sha256)).includes('m3-w60.png'));
  });

  test('bad preview parameters → 422 naming the parameter; unknown image → 404', async () => {
    const bad = await get(`/api/images/${imageId}/preview?method=5`);
    assert.equal(bad.status, 422);
    assert.equal(bad.body.detail, 'query.method: must be 1, 2, 3 or 4');
    const none = await get(`/api/images/${imageId}/preview`);
    assert.equal(none.status, 422);
    assert.match(none.body.detail, /^query\.method: /);
    const tiny = await get(`/api/images/${imageId}/preview?method=1&width=2`);
    assert.equal(tiny.status, 422);
    assert.match(tiny.body.detail, /^query\.width: /);
    const missing = await get('/api/images/987654/preview?method=1');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.detail, 'no image with id 987654');
  });

  test('dataset stats: the paper’s global bounds over all 16-bit images, and their summed histogram', async () => {
    const r = await get('/api/dataset/stats', expert);
    assert.equal(r.status, 200);
    const all = await get('/api/images?limit=500');
    const sixteen = all.body.items.filter((i: { bitDepth: number }) => i.bitDepth === 16);
    const lo = Math.min(...sixteen.map((i: { stats: { p0_01: number } }) => i.stats.p0_01));
    const hi = Math.max(...sixteen.map((i: { stats: { p99_99: number } }) => i.stats.p99_99));
    assert.equal(r.body.globalMin, Math.round(lo / 100) * 100);
    assert.equal(r.body.globalMax, Math.round(hi / 100) * 100);
    assert.equal(r.body.bitDepth, 16);
    assert.equal(r.body.images, sixteen.length);
    assert.equal(r.body.histogram.binEdges.length, 1025);
    assert.equal(r.body.histogram.binEdges[1024], 65536);
    const pixels = sixteen.reduce(
      (s: number, i: { width: number; height: number }) => s + i.width * i.height,
      0,
    );
    assert.equal(
      r.body.histogram.counts.reduce((a: number, b: number) => a + b, 0),
      pixels,
    );
    assert.deepEqual(
      r.body.byBitDepth.map((g: { bitDepth: number }) => g.bitDepth),
      [16, 8],
    );
  });

  test('a method-2 preview changes when new images move the global bounds', async () => {
    const before = await fetchPng(`/api/images/${imageId}/preview?method=2&width=60`);
    const statsBefore = (await get('/api/dataset/stats')).body;
    const bright = await upload(ramp16(10, 10, 900, 40000), 'previews', 'bright.tif');
    assert.equal(bright.status, 201);
    const statsAfter = (await get('/api/dataset/stats')).body;
    assert.notDeepEqual(
      [statsAfter.globalMin, statsAfter.globalMax],
      [statsBefore.globalMin, statsBefore.globalMax],
    );
    const after = await fetchPng(`/api/images/${imageId}/preview?method=2&width=60`, lead, {
      'if-none-match': before.headers.get('etag')!,
      'cache-control': 'max-age=0',
    });
    assert.equal(after.status, 200, 'the old ETag no longer matches');
    assert.notDeepEqual(after.bytes, before.bytes);
    const sha256 = (await get(`/api/images/${imageId}`)).body.sha256;
    const m2 = files(path.join('previews', sha256)).filter((f) => f.startsWith('m2-w60-'));
    assert.deepEqual(
      m2,
      [`m2-w60-g${statsAfter.globalMin}-${statsAfter.globalMax}.png`],
      'the stale preview is gone',
    );
  });

  test('bundles list their images and label progress', async () => {
    const r = await get('/api/bundles', expert);
    assert.equal(r.status, 200);
    const paging1 = r.body.find((b: { name: string }) => b.name === 'paging-1');
    assert.deepEqual(paging1, {
      name: 'paging-1',
      images: 3,
      excluded: 0,
      labeled: 1,
      resolved: 0,
      normal: null, // verdict counts are for leads and admins: voting is blind (bundles.test.ts)
      abnormal: null,
    });
    const names = r.body.map((b: { name: string }) => b.name);
    assert.deepEqual(names, [...names].sort());
  });
});
