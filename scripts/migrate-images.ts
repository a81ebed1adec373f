/**
 * `npm run migrate-images` — copy a local image store into a bucket, verifying every image by its SHA-256.
 *
 *   PLATINA_IMAGE_STORE=s3://bucket/prefix AWS_ENDPOINT_URL=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… \
 *     npm run migrate-images -- [--from ./data/images] [--concurrency 4]
 *
 * The source defaults to PLATINA_DATA_DIR/images; the target is the bucket PLATINA_IMAGE_STORE names, so the same
 * environment then starts the API on it. Safe to rerun (what is there is verified, not copied again) and safe
 * while the API still runs on the directory: run it again after switching to copy what arrived meanwhile.
 * Exit code 0 when every image is in the bucket and verified, 1 when any is not, 2 for usage errors.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ImageStoreConfigError, parseImageStoreSpec } from '../lib/image-store/image-store.ts';
import { localImageStore } from '../lib/image-store/local-store.ts';
import { migrateImages } from '../lib/image-store/migrate.ts';
import { openImageStore } from '../lib/image-store/open.ts';

const USAGE = `usage: PLATINA_IMAGE_STORE=s3://bucket/prefix npm run migrate-images -- [--from DIR] [--concurrency N]`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { from: { type: 'string' }, concurrency: { type: 'string', default: '4' } },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const dataDir = path.resolve(process.env.PLATINA_DATA_DIR?.trim() || './data');
  let spec;
  try {
    spec = parseImageStoreSpec(process.env, dataDir, 'api');
  } catch (err) {
    if (!(err instanceof ImageStoreConfigError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    return 2;
  }
  if (spec.kind !== 's3') {
    console.error(`set PLATINA_IMAGE_STORE to the target bucket (s3://bucket/prefix)\n${USAGE}`);
    return 2;
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    console.error(`--concurrency must be an integer from 1 to 64\n${USAGE}`);
    return 2;
  }
  const from = localImageStore(path.resolve(values.from ?? path.join(dataDir, 'images')));
  const to = openImageStore(spec);
  try {
    const report = await migrateImages(from, to, {
      concurrency,
      progress: (done) => {
        if (done % 100 === 0) process.stderr.write(`${done} images…\n`);
      },
    });
    console.log(
      `${from.description} → ${to.description}: copied ${report.copied}, already there ${report.present}, ` +
        `verified ${report.verified}, problems ${report.problems.length}`,
    );
    for (const p of report.problems) console.log(`problem ${p.sha256}: ${p.reason}`);
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    to.close();
  }
}

process.exitCode = await main();
