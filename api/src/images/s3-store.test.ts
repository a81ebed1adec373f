import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../../test/faults/processes.ts';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import { startTestS3, type TestS3 } from '../../../test/s3.ts';
import { buildTiff, syntheticXray16 } from '../../../lib/imaging/tiff-fixtures.ts';
import { parseImageStoreSpec } from '../../../lib/image-store/image-store.ts';
import { openImageStore } from '../../../lib/image-store/open.ts';

/** The API over an S3 bucket (PLATINA_IMAGE_STORE=s3://…): the same answers as over a directory. */
let s3: TestS3;
let app: TestApp;
const env = () => s3.env('api-test');
const tiff = (seed: number) =>
  Buffer.from(buildTiff({ width: 20, height: 10, data: syntheticXray16(20, 10, seed) }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

before(async () => {
  s3 = await startTestS3();
  app = await startTestApp(env());
});
after(async () => {
  await app?.close();
  await s3?.close();
});

const upload = (a: TestApp, bytes: Buffer, name: string) =>
  a.request('POST', `/api/images?bundle=S3&name=${name}`, { token: a.admin.token, body: bytes });

describe('the API with an S3 image store', () => {
  test('an upload is in the bucket when it is acknowledged, and nothing of it is in the data directory', async () => {
    const bytes = tiff(1);
    const r = await upload(app, bytes, 'a.tif');
    assert.equal(r.status, 201, r.text);
    const bucket = openImageStore(parseImageStoreSpec(env(), '/unused', 'api'));
    assert.deepEqual(await bucket.get(sha(bytes)), bytes);
    bucket.close();
    assert.deepEqual(readdirSync(app.config.dataDir).sort(), ['tmp']);
    assert.deepEqual(readdirSync(path.join(app.config.dataDir, 'tmp')), []);
  });

  test('serves the original bytes and previews from the bucket', async () => {
    const bytes = tiff(2);
    const { body: image } = await upload(app, bytes, 'b.tif');
    const raw = await fetch(`${app.url}/api/images/${image.id}/raw`, {
      headers: { authorization: `Bearer ${app.admin.token}` },
    });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('etag'), `"${sha(bytes)}"`);
    assert.equal(raw.headers.get('content-length'), String(bytes.length));
    assert.deepEqual(Buffer.from(await raw.arrayBuffer()), bytes);
    const preview = await app.request('GET', `/api/images/${image.id}/preview?method=3&width=10`, {
      token: app.admin.token,
    });
    assert.equal(preview.status, 200);
    assert.equal(preview.headers.get('content-type'), 'image/png');
  });

  test('the same bytes again are the existing image (200), whatever name they come with', async () => {
    const bytes = tiff(1);
    const r = await upload(app, bytes, 'again.tif');
    assert.equal(r.status, 200);
    assert.equal(r.body.name, 'a.tif');
    assert.equal(r.body.upload.duplicate, true);
  });
});

describe('an S3 image store that does not answer', () => {
  test('an upload is refused with 503 naming the store, and no image is created', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const down = await startTestApp({ ...env(), AWS_ENDPOINT_URL: dead });
    try {
      const bytes = tiff(7);
      const r = await upload(down, bytes, 'lost.tif');
      assert.equal(r.status, 503, r.text);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.match(
        r.body.detail,
        new RegExp(`^the image store \\(s3://${s3.bucket}/api-test\\) failed for the upload ${sha(bytes)}: `),
      );
      const list = await down.request('GET', '/api/images', { token: down.admin.token });
      assert.deepEqual(list.body.items, []);
    } finally {
      await down.close();
    }
  });
});
