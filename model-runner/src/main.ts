import path from 'node:path';
import pino from 'pino';
import { openPostgres } from '../../lib/db/connect.ts';
import { migrateToLatest } from '../../lib/db/migrate.ts';
import { ImageStoreConfigError, parseImageStoreSpec } from '../../lib/image-store/image-store.ts';
import { openImageSource } from '../../lib/image-store/open.ts';
import { createModelRunner } from './runner/index.ts';

/**
 * `npm run runner`: a model runner process against PostgreSQL (DATABASE_URL), e.g. a GPU worker beside
 * the API instances. With the embedded database the runner lives inside `npm start` instead.
 * SIGTERM/SIGINT: stop claiming, give the current job 30 s, then hand it back to the queue.
 * Image bytes come from PLATINA_IMAGE_STORE: the data directory (default, a disk shared with the API), an S3
 * bucket, or an API instance's URL (docs/scale-out.md).
 */
const url = process.env.DATABASE_URL?.trim();
if (!url) {
  console.error(
    'platina runner: DATABASE_URL is not set. The runner talks to PostgreSQL; with the embedded database, `npm start` runs it inside the server.',
  );
  process.exit(2);
}
// How soon a job of a runner that died (a GPU machine lost, kill -9) is handed to another: the heartbeat is every
// 5 s, so anything from 10 s up; the default 60 s rides out long pauses of a loaded machine.
const stale = Number(process.env.PLATINA_JOB_STALE_SECONDS ?? 60);
if (!Number.isInteger(stale) || stale < 10 || stale > 86_400) {
  console.error(
    `platina runner: PLATINA_JOB_STALE_SECONDS=${process.env.PLATINA_JOB_STALE_SECONDS} is invalid: expected an integer from 10 to 86400`,
  );
  process.exit(2);
}
const dataDir = path.resolve(process.env.PLATINA_DATA_DIR?.trim() || './data');
let images;
try {
  images = openImageSource(parseImageStoreSpec(process.env, dataDir, 'runner'));
} catch (err) {
  if (!(err instanceof ImageStoreConfigError)) throw err;
  console.error(`platina runner: ${err.message}`);
  process.exit(2);
}
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const database = openPostgres(url, 4, (err) =>
  logger.warn({ err }, 'an idle database connection failed; the pool opens a new one'),
);
await migrateToLatest(database.db);
const runner = createModelRunner({
  db: database.db,
  logger,
  dataDir,
  images,
  listenUrl: url,
  pollMs: 5000,
  staleSeconds: stale,
});
runner.start();
void runner.resources.backbone().catch((err) => logger.error({ err }, 'cannot load the backbone'));
logger.info(
  { worker: runner.jobs.workerId, images: runner.resources.images.description },
  'model runner started',
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'model runner stopping: no new jobs; finishing or handing back the current one');
  await runner.stop(30_000);
  images.close();
  await database.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
