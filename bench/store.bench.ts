/**
 * The image store (issue 16, "Measure"), every figure beside reading the same bytes from disk in the same run:
 *  (a) the stores themselves: put throughput (MB/s) and read latency per image (p50, p99) of the local directory
 *      and of S3 on 127.0.0.1 (s3rver, in this process), against writing (with fsync) and reading plain files;
 *  (b) through the API: `POST /api/images` throughput (2 in flight; hashing, decode and statistics in the worker
 *      pool, the transaction that puts the bytes into the store) and `GET /api/images/:id/raw` latency, with each
 *      store, on the embedded database;
 *  (c) the folder watcher (`npm run import -- --watch`): lag from a file complete on disk (its writer closed it)
 *      to its image stored and in the queue (the API acknowledged the upload, i.e. committed it), p50 and p99
 *      over 500 small TIFFs arriving 10 per second, with the default polling (1 s) and settle time (2 s); beside
 *      it, the time the API takes to acknowledge one such upload (the part of the lag that is not the watcher's).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseImageStoreSpec, type ImageStore } from '../lib/image-store/image-store.ts';
import { localImageStore } from '../lib/image-store/local-store.ts';
import { openImageStore } from '../lib/image-store/open.ts';
import { compileBundlePattern } from '../lib/import/bundle-pattern.ts';
import { folderSource } from '../lib/import/watch-sources.ts';
import { FolderWatcher, type WatchEvent } from '../lib/import/watcher.ts';
import { buildTiff, syntheticXray16 } from '../lib/imaging/tiff-fixtures.ts';
import { startTestApp, type TestApp } from '../test/harness.ts';
import { startTestS3 } from '../test/s3.ts';
import { median, quantile, type BenchReport, type BenchRow } from './report.ts';

/** The paper's image size class: 1150 × 2070 pixels of 16 bits, 4.8 MB each. */
const WIDTH = 1150;
const HEIGHT = 2070;
const IMAGES = 16;
const READS = 3;
const WATCHED = 500;
/** Below what the API takes on this 2-core machine under load, so the lag measures the watcher, not a backlog. */
const ARRIVALS_PER_S = 10;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}

/** Puts then reads every image: MB/s of the puts (one at a time), per-image read latencies. */
async function storeFigures(store: ImageStore, images: Uint8Array[]) {
  await store.size(sha(new Uint8Array(1))); // connects (and loads the AWS SDK for S3) outside the timing
  const [, putMs] = await timed(async () => {
    for (const b of images) await store.put(sha(b), { bytes: b });
  });
  const reads: number[] = [];
  for (let r = 0; r < READS; r++)
    for (const b of images) {
      const [got, ms] = await timed(() => store.get(sha(b)));
      if (got?.length !== b.length) throw new Error('read back the wrong bytes');
      reads.push(ms);
    }
  return { mbPerS: bytesOf(images) / 1e6 / (putMs / 1000), reads };
}

const bytesOf = (images: Uint8Array[]) => images.reduce((n, b) => n + b.length, 0);

/** The floor: plain files written with fsync, then read back. */
async function diskFigures(dir: string, images: Uint8Array[]) {
  mkdirSync(dir, { recursive: true });
  const [, writeMs] = await timed(async () => {
    for (const b of images) {
      const h = await open(path.join(dir, sha(b)), 'w');
      await h.writeFile(b);
      await h.sync();
      await h.close();
    }
  });
  const reads: number[] = [];
  for (let r = 0; r < READS; r++)
    for (const b of images) {
      const [, ms] = await timed(() => readFile(path.join(dir, sha(b))));
      reads.push(ms);
    }
  return { mbPerS: bytesOf(images) / 1e6 / (writeMs / 1000), reads };
}

/** Uploads through the API, 2 in flight (images/s), then reads each image's raw bytes back (ms). */
async function apiFigures(app: TestApp, images: Uint8Array[], tag: string) {
  let next = 0;
  const [, uploadMs] = await timed(async () => {
    const worker = async () => {
      while (next < images.length) {
        const i = next++;
        const r = await app.request('POST', `/api/images?bundle=${tag}&name=${i}.tif`, {
          token: app.admin.token,
          body: images[i],
        });
        if (r.status !== 201) throw new Error(`upload ${i}: ${r.status} ${r.text}`);
      }
    };
    await Promise.all([worker(), worker()]);
  });
  const list = await app.request('GET', `/api/images?bundle=${tag}&limit=100`, { token: app.admin.token });
  const reads: number[] = [];
  for (let r = 0; r < READS; r++)
    for (const im of list.body.items as { id: string }[]) {
      const [, ms] = await timed(async () => {
        const res = await fetch(`${app.url}/api/images/${im.id}/raw`, {
          headers: { authorization: `Bearer ${app.admin.token}` },
        });
        await res.arrayBuffer();
      });
      reads.push(ms);
    }
  return { imagesPerS: images.length / (uploadMs / 1000), reads };
}

/** 500 small TIFFs written into a watched folder at a steady rate; lag from close() to the acknowledged upload. */
async function watcherLag(app: TestApp, dir: string) {
  const root = path.join(dir, 'incoming');
  mkdirSync(path.join(root, 'W'), { recursive: true });
  const completedAt = new Map<string, number>();
  const lags: number[] = [];
  const uploads: number[] = [];
  let seen = 0;
  let allDone!: () => void;
  const done = new Promise<void>((r) => (allDone = r));
  const watcher = new FolderWatcher({
    source: folderSource(root),
    pattern: compileBundlePattern('{bundle}/**'),
    url: app.url,
    token: app.admin.token,
    statePath: path.join(dir, 'watch.jsonl'),
    onEvent: (e: WatchEvent) => {
      if (e.kind !== 'imported') throw new Error(`${e.rel}: ${e.kind} ${e.reason}`);
      lags.push(e.at - completedAt.get(e.rel)!);
      if (++seen === WATCHED) allDone();
    },
  });
  watcher.start();
  const started = Date.now();
  for (let i = 0; i < WATCHED; i++) {
    const wait = started + (i * 1000) / ARRIVALS_PER_S - Date.now();
    if (wait > 0) await sleep(wait);
    const rel = `W/${String(i).padStart(4, '0')}.tif`;
    const bytes = new Uint8Array(
      buildTiff({ width: 64, height: 128, data: syntheticXray16(64, 128, 10_000 + i) }),
    );
    const h = await open(path.join(root, rel), 'w');
    await h.writeFile(bytes);
    await h.close();
    completedAt.set(rel, Date.now());
  }
  await done;
  await watcher.stop();
  // The API's share: the same kind of file uploaded directly, one at a time.
  for (let i = 0; i < 50; i++) {
    const bytes = new Uint8Array(
      buildTiff({ width: 64, height: 128, data: syntheticXray16(64, 128, 20_000 + i) }),
    );
    const [r, ms] = await timed(() =>
      app.request('POST', `/api/images?bundle=direct&name=${i}.tif`, { token: app.admin.token, body: bytes }),
    );
    if (r.status !== 201) throw new Error(`direct upload: ${r.status} ${r.text}`);
    uploads.push(ms);
  }
  return { lags, uploads };
}

export default async function bench(): Promise<BenchReport> {
  const dir = await mkdtemp(path.join(tmpdir(), 'platina-bench-store-'));
  const s3 = await startTestS3('platina-bench');
  const images = Array.from(
    { length: IMAGES },
    (_, i) =>
      new Uint8Array(
        buildTiff({ width: WIDTH, height: HEIGHT, data: syntheticXray16(WIDTH, HEIGHT, i + 1) }),
      ),
  );
  const rows: BenchRow[] = [];
  try {
    const disk = await diskFigures(path.join(dir, 'plain'), images);
    const local = await storeFigures(localImageStore(path.join(dir, 'store')), images);
    const bucketStore = openImageStore(parseImageStoreSpec(s3.env('bench'), dir, 'api'));
    const bucket = await storeFigures(bucketStore, images);
    bucketStore.close();
    const diskWrite = { metric: 'disk: write + fsync', value: disk.mbPerS, unit: 'MB/s' };
    const diskP50 = { metric: 'disk: readFile p50', value: median(disk.reads), unit: 'ms' };
    const diskP99 = { metric: 'disk: readFile p99', value: quantile(disk.reads, 0.99), unit: 'ms' };
    for (const [name, f] of [
      ['local store', local],
      ['S3 store (s3rver, 127.0.0.1)', bucket],
    ] as const) {
      rows.push({
        metric: `${name}: put`,
        value: f.mbPerS,
        unit: 'MB/s',
        reference: diskWrite,
        ratio: f.mbPerS / disk.mbPerS,
        note: 'higher is better; ratio = put / disk write',
      });
      for (const [q, ref] of [
        [0.5, diskP50],
        [0.99, diskP99],
      ] as const) {
        const v = quantile(f.reads, q);
        rows.push({
          metric: `${name}: get p${q * 100}`,
          value: v,
          unit: 'ms',
          reference: ref,
          ratio: v / ref.value,
          note: 'lower is better; ratio = store / disk',
        });
      }
    }

    const apiLocal = await startTestApp();
    const apiS3 = await startTestApp(s3.env('api'));
    try {
      // One upload each first: the worker pool starts its threads on the first decode.
      const warm = new Uint8Array(buildTiff({ width: 64, height: 64, data: syntheticXray16(64, 64, 999) }));
      for (const app of [apiLocal, apiS3])
        await app.request('POST', '/api/images?bundle=warm&name=w.tif', {
          token: app.admin.token,
          body: warm,
        });
      const viaLocal = await apiFigures(apiLocal, images, 'local');
      const viaS3 = await apiFigures(apiS3, images, 's3');
      const diskRate = disk.mbPerS / (bytesOf(images) / images.length / 1e6);
      for (const [name, f] of [
        ['API over the local store', viaLocal],
        ['API over S3', viaS3],
      ] as const) {
        rows.push({
          metric: `${name}: POST /api/images`,
          value: f.imagesPerS,
          unit: 'images/s',
          reference: { metric: 'disk: write + fsync', value: diskRate, unit: 'images/s' },
          ratio: f.imagesPerS / diskRate,
          note: '2 in flight; includes decode + statistics; higher is better',
        });
        const v = median(f.reads);
        rows.push({
          metric: `${name}: GET raw p50`,
          value: v,
          unit: 'ms',
          reference: diskP50,
          ratio: v / diskP50.value,
          note: 'over HTTP with auth; lower is better',
        });
      }
      const { lags, uploads } = await watcherLag(apiLocal, dir);
      for (const q of [0.5, 0.99]) {
        const lag = quantile(lags, q);
        const upload = quantile(uploads, q);
        rows.push({
          metric: `watcher: file complete → in queue p${q * 100} (${WATCHED} files)`,
          value: lag,
          unit: 'ms',
          reference: { metric: `one small upload acknowledged, p${q * 100}`, value: upload, unit: 'ms' },
          ratio: lag / upload,
          note: 'poll 1 s, settle 2 s (the defaults): the floor is 2 s plus the upload',
        });
      }
    } finally {
      await apiLocal.close();
      await apiS3.close();
    }
  } finally {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
  return {
    name: 'store',
    rows,
    context: {
      images: `${IMAGES} synthetic 16-bit TIFFs of ${WIDTH}×${HEIGHT} (${(bytesOf(images) / IMAGES / 1e6).toFixed(2)} MB each), read ${READS}×`,
      watched: `${WATCHED} synthetic 16-bit TIFFs of 64×128, ${ARRIVALS_PER_S}/s`,
      s3: 's3rver in the bench process on 127.0.0.1 (its CPU shares this machine): a stand-in, not a production object store',
      database: 'embedded PGlite',
      loadAverage: loadavg(),
    },
  };
}
