import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestUser } from '../../test/harness.ts';
import { buildTiff, syntheticXray16 } from '../imaging/tiff-fixtures.ts';
import { apiImageSource } from './api-source.ts';
import { ImageMissingError } from './image-store.ts';

let app: TestApp;
let runner: TestUser;
const tiff = Buffer.from(buildTiff({ width: 16, height: 12, data: syntheticXray16(16, 12, 3) }));
const sha = createHash('sha256').update(tiff).digest('hex');

before(async () => {
  app = await startTestApp();
  runner = await app.user('runner');
  const r = await app.request('POST', '/api/images?bundle=B&name=a.tif', {
    token: app.admin.token,
    body: tiff,
  });
  assert.equal(r.status, 201, r.text);
});
after(async () => {
  await app?.close();
});

describe('a runner reading images through the API (no shared disk, no bucket)', () => {
  test('gets the bytes of an image by its SHA-256 with a runner’s token', async () => {
    const source = apiImageSource({ url: app.url, token: runner.token, user: null, password: null });
    const got = await source.source(sha);
    assert.ok('bytes' in got);
    assert.deepEqual(Buffer.from(got.bytes), tiff);
  });

  test('signs in again with its user and password when its token stops working', async () => {
    const token = await app.login(runner.username, runner.password);
    const source = apiImageSource({ url: app.url, token, user: runner.username, password: runner.password });
    const out = await app.request('POST', '/api/auth/logout', { token });
    assert.equal(out.status, 204, out.text);
    const got = await source.source(sha);
    assert.ok('bytes' in got && got.bytes.length === tiff.length);
  });

  test('names an image the API does not hold', async () => {
    const source = apiImageSource({ url: app.url, token: runner.token, user: null, password: null });
    const absent = createHash('sha256').update('absent').digest('hex');
    await assert.rejects(source.source(absent), ImageMissingError);
  });

  test('says what the API answered to a token it refuses', async () => {
    const source = apiImageSource({ url: app.url, token: 'not-a-token', user: null, password: null });
    await assert.rejects(source.source(sha), (err: Error) => {
      assert.match(err.message, new RegExp(`finding image ${sha} through ${app.url} failed: 401 `));
      return true;
    });
  });
});
