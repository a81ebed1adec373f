import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startTestS3, type TestS3 } from '../test/s3.ts';
import { parseImageStoreSpec } from '../lib/image-store/image-store.ts';
import { openImageStore } from '../lib/image-store/open.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);
let s3: TestS3;
let dataDir: string;
const sha = (b: string) => createHash('sha256').update(b).digest('hex');

before(async () => {
  s3 = await startTestS3();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-migrate-'));
  fs.mkdirSync(path.join(dataDir, 'images'));
  for (const s of ['a', 'b']) fs.writeFileSync(path.join(dataDir, 'images', sha(s)), s);
});
after(async () => {
  await s3?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The CLI as an operator runs it (async: s3rver answers from this process). */
const migrate = (env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/migrate-images.ts'], {
    cwd: ROOT,
    env: { ...process.env, PLATINA_DATA_DIR: dataDir, ...env },
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

describe('npm run migrate-images', () => {
  test('copies the data directory’s images into the bucket PLATINA_IMAGE_STORE names, verified', async () => {
    const r = await migrate(s3.env('migrated'));
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      new RegExp(`→ s3://${s3.bucket}/migrated: copied 2, already there 0, verified 2, problems 0`),
    );
    const bucket = openImageStore(parseImageStoreSpec(s3.env('migrated'), dataDir, 'api'));
    assert.equal((await bucket.get(sha('b')))?.toString(), 'b');
    bucket.close();
  });

  test('without a bucket to copy into it says what to set (exit 2)', async () => {
    const r = await migrate({ PLATINA_IMAGE_STORE: '' });
    assert.equal(r.code, 2);
    assert.match(r.out, /set PLATINA_IMAGE_STORE to the target bucket \(s3:\/\/bucket\/prefix\)/);
  });
});
