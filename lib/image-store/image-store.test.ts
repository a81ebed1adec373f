import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { text } from 'node:stream/consumers';
import { startTestS3, type TestS3 } from '../../test/s3.ts';
import {
  ImageMissingError,
  ImageStoreConfigError,
  parseImageStoreSpec,
  type ImageStore,
} from './image-store.ts';
import { localImageStore } from './local-store.ts';
import { migrateImages } from './migrate.ts';
import { openImageStore } from './open.ts';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const bytesOf = (s: string) => new Uint8Array(Buffer.from(s));

let s3: TestS3;
const temps: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-store-test-'));
  temps.push(d);
  return d;
};
before(async () => {
  s3 = await startTestS3();
});
after(async () => {
  await s3?.close();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

let prefixes = 0;
const s3Store = () => openImageStore(parseImageStoreSpec(s3.env(`suite-${++prefixes}`), '/unused', 'api'));

/** One specification, run against both implementations. */
const implementations: [string, () => ImageStore][] = [
  ['local directory', () => localImageStore(path.join(tempDir(), 'images'))],
  ['S3 (s3rver on 127.0.0.1)', s3Store],
];

for (const [name, open] of implementations) {
  describe(`image store: ${name}`, () => {
    test('holds what was put, by its SHA-256: get, size, stream, list and a worker source', async () => {
      const store = open();
      const a = bytesOf('first image bytes');
      const b = bytesOf('second, longer image bytes');
      await store.put(sha(a), { bytes: a });
      await store.put(sha(b), { bytes: b });
      assert.deepEqual(await store.get(sha(a)), Buffer.from(a));
      assert.equal(await store.size(sha(b)), b.length);
      const s = await store.stream(sha(b));
      assert.equal(s?.size, b.length);
      assert.equal(await text(s!.body), 'second, longer image bytes');
      const keys: string[] = [];
      for await (const k of store.list()) keys.push(k);
      assert.deepEqual(keys.sort(), [sha(a), sha(b)].sort());
      const source = await store.source(sha(a));
      const read = 'path' in source ? fs.readFileSync(source.path) : Buffer.from(source.bytes);
      assert.deepEqual(read, Buffer.from(a));
      store.close();
    });

    test('takes a temporary file, and a repeated put of the same bytes changes nothing', async () => {
      const store = open();
      const bytes = bytesOf('bytes received into a temporary file');
      for (let i = 0; i < 2; i++) {
        const tmp = path.join(tempDir(), 'upload');
        fs.writeFileSync(tmp, bytes);
        await store.put(sha(bytes), { path: tmp });
      }
      assert.deepEqual(await store.get(sha(bytes)), Buffer.from(bytes));
      const keys: string[] = [];
      for await (const k of store.list()) keys.push(k);
      assert.deepEqual(keys, [sha(bytes)]);
      store.close();
    });

    test('says absent for an image it does not hold, and names it to a worker', async () => {
      const store = open();
      const absent = sha('never stored');
      assert.equal(await store.get(absent), null);
      assert.equal(await store.size(absent), null);
      assert.equal(await store.stream(absent), null);
      await assert.rejects(store.source(absent), (err: Error) => {
        assert.ok(err instanceof ImageMissingError);
        assert.match(err.message, new RegExp(`image ${absent} is not in the image store`));
        return true;
      });
      await store.remove(absent); // no error
      store.close();
    });

    test('removes an image (the undo of a put whose row did not commit)', async () => {
      const store = open();
      const bytes = bytesOf('to be removed');
      await store.put(sha(bytes), { bytes });
      await store.remove(sha(bytes));
      assert.equal(await store.size(sha(bytes)), null);
      store.close();
    });
  });
}

describe('migrating a local store into a bucket', () => {
  test('copies every image, verifies each by its SHA-256, and a rerun copies nothing again', async () => {
    const from = localImageStore(path.join(tempDir(), 'images'));
    const images = ['one', 'two', 'three'].map((s) => bytesOf(`image ${s}`));
    for (const b of images) await from.put(sha(b), { bytes: b });
    const to = s3Store();
    const first = await migrateImages(from, to, { concurrency: 2 });
    assert.deepEqual(first, { copied: 3, present: 0, verified: 3, problems: [] });
    for (const b of images) assert.deepEqual(await to.get(sha(b)), Buffer.from(b));
    const again = await migrateImages(from, to);
    assert.deepEqual(again, { copied: 0, present: 3, verified: 3, problems: [] });
    to.close();
  });

  test('reports a damaged source file instead of copying it', async () => {
    const dir = path.join(tempDir(), 'images');
    const from = localImageStore(dir);
    const good = bytesOf('good image');
    await from.put(sha(good), { bytes: good });
    const claimed = sha('what the file once held');
    fs.writeFileSync(path.join(dir, claimed), 'bit rot');
    const to = s3Store();
    const report = await migrateImages(from, to);
    assert.equal(report.copied, 1);
    assert.equal(report.verified, 1);
    assert.deepEqual(report.problems, [
      { sha256: claimed, reason: `the source file hashes to ${sha('bit rot')}: damaged, not copied` },
    ]);
    assert.equal(await to.size(claimed), null);
    to.close();
  });
});

describe('PLATINA_IMAGE_STORE', () => {
  test('unset: the directory images/ in the data directory', () => {
    assert.deepEqual(parseImageStoreSpec({}, '/data', 'api'), { kind: 'local', dir: '/data/images' });
  });

  test('s3://bucket/prefix with the standard AWS variables; a custom endpoint uses path-style URLs', () => {
    const spec = parseImageStoreSpec(
      {
        PLATINA_IMAGE_STORE: 's3://plant-xray/platina/images/',
        AWS_ENDPOINT_URL: 'http://minio:9000',
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'key',
        AWS_SECRET_ACCESS_KEY: 'secret',
      },
      '/data',
      'api',
    );
    assert.deepEqual(spec, {
      kind: 's3',
      bucket: 'plant-xray',
      prefix: 'platina/images',
      s3: {
        endpoint: 'http://minio:9000',
        region: 'eu-central-1',
        credentials: { accessKeyId: 'key', secretAccessKey: 'secret', sessionToken: undefined },
        forcePathStyle: true,
      },
    });
  });

  test('an API URL is a runner’s source only, and needs the runner’s credentials', () => {
    const env = { PLATINA_IMAGE_STORE: 'http://api-a:8080/' };
    assert.throws(() => parseImageStoreSpec(env, '/d', 'api'), /invalid for an API instance/);
    assert.throws(
      () => parseImageStoreSpec(env, '/d', 'runner'),
      /set PLATINA_RUNNER_USER and PLATINA_RUNNER_PASSWORD/,
    );
    assert.deepEqual(parseImageStoreSpec({ ...env, PLATINA_RUNNER_TOKEN: 't' }, '/d', 'runner'), {
      kind: 'api',
      url: 'http://api-a:8080',
      token: 't',
      user: null,
      password: null,
    });
  });

  test('anything else is refused with the forms it takes', () => {
    for (const bad of ['/mnt/images', 's3://', 's3://Upper_Case/x', 'ftp://host'])
      assert.throws(
        () => parseImageStoreSpec({ PLATINA_IMAGE_STORE: bad }, '/d', 'api'),
        (err: Error) => err instanceof ImageStoreConfigError && /is invalid/.test(err.message),
      );
  });
});
