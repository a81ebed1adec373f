import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../test/harness.ts';
import { startTestS3, type TestS3 } from '../../test/s3.ts';
import { buildTiff, syntheticXray16 } from '../imaging/tiff-fixtures.ts';
import { parseImageStoreSpec } from '../image-store/image-store.ts';
import { s3Client } from '../image-store/s3-store.ts';
import { compileBundlePattern } from './bundle-pattern.ts';
import { bucketSource, folderSource } from './watch-sources.ts';
import { FolderWatcher, type WatchEvent } from './watcher.ts';

let app: TestApp;
let s3: TestS3;
let root: string;
const tiff = (seed: number) =>
  Buffer.from(buildTiff({ width: 12, height: 10, data: syntheticXray16(12, 10, seed) }));

before(async () => {
  app = await startTestApp();
  s3 = await startTestS3();
  root = mkdtempSync(path.join(tmpdir(), 'platina-watch-'));
});
after(async () => {
  await app?.close();
  await s3?.close();
  rmSync(root, { recursive: true, force: true });
});

/** A watcher on a fresh folder; `events` collects what it reports. */
function watcherOn(dir: string, o: { pattern?: string; state?: string; settleMs?: number } = {}) {
  mkdirSync(dir, { recursive: true });
  const events: WatchEvent[] = [];
  const watcher = new FolderWatcher({
    source: folderSource(dir),
    pattern: compileBundlePattern(o.pattern ?? '{bundle}/**'),
    url: app.url,
    token: app.admin.token,
    statePath: o.state ?? path.join(dir, '.platina-import.jsonl'),
    settleMs: o.settleMs ?? 0,
    onEvent: (e) => events.push(e),
  });
  return { watcher, events };
}

const summary = (events: WatchEvent[]) =>
  events
    .map((e) => [e.kind, e.rel, e.bundle, e.reason])
    .sort((a, b) => String(a[1]).localeCompare(String(b[1])));

const imagesOf = async (bundle: string) =>
  (await app.request('GET', `/api/images?bundle=${bundle}`, { token: app.admin.token })).body.items.map(
    (i: { name: string }) => i.name,
  );

describe('npm run import -- --watch DIR', () => {
  test('a file still being written is left alone until two listings see it unchanged', async () => {
    const dir = path.join(root, 'half');
    const { watcher, events } = watcherOn(dir);
    await watcher.prepare();
    const bytes = tiff(1);
    mkdirSync(path.join(dir, 'H1'));
    const file = path.join(dir, 'H1', 'slow.tif');
    writeFileSync(file, bytes.subarray(0, 100)); // the station has written the header and a few rows
    await watcher.scanOnce();
    appendFileSync(file, bytes.subarray(100)); // …and now the rest
    await watcher.scanOnce();
    assert.deepEqual(events, [], 'nothing uploaded while the file was growing');
    assert.deepEqual(await imagesOf('H1'), []);
    await watcher.scanOnce();
    assert.deepEqual(summary(events), [['imported', 'H1/slow.tif', 'H1', null]]);
    assert.deepEqual(await imagesOf('H1'), ['slow.tif']);
  });

  test('the bundle comes from the pattern; files that do not fit it or are no image are rejected with the reason', async () => {
    const dir = path.join(root, 'pattern');
    const { watcher, events } = watcherOn(dir, { pattern: '**/{bundle}_*.tif' });
    await watcher.prepare();
    mkdirSync(path.join(dir, '2026-12'), { recursive: true });
    writeFileSync(path.join(dir, '2026-12', 'L04_0001.tif'), tiff(2));
    writeFileSync(path.join(dir, 'L05_0001.tif'), tiff(3));
    writeFileSync(path.join(dir, 'unnamed.tif'), tiff(4));
    writeFileSync(path.join(dir, 'L06_photo.tif'), Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16));
    writeFileSync(path.join(dir, '.L07_0001.tif.part'), tiff(5)); // a writer's temporary file: not looked at
    await watcher.scanOnce();
    await watcher.scanOnce();
    assert.deepEqual(summary(events), [
      ['imported', '2026-12/L04_0001.tif', 'L04', null],
      ['imported', 'L05_0001.tif', 'L05', null],
      [
        'rejected',
        'L06_photo.tif',
        'L06',
        'Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is not a TIFF (starts with bytes FF D8 FF E0: a JPEG).',
      ],
      ['rejected', 'unnamed.tif', null, 'the path does not fit the bundle pattern **/{bundle}_*.tif'],
    ]);
    assert.equal(events.find((e) => e.rel === 'L06_photo.tif')?.status, 422);
    assert.deepEqual(await imagesOf('L04'), ['L04_0001.tif']);
  });

  test('a restart resumes from the journal: nothing handled before is sent or reported again', async () => {
    const dir = path.join(root, 'restart');
    const first = watcherOn(dir);
    await first.watcher.prepare();
    mkdirSync(path.join(dir, 'R1'));
    writeFileSync(path.join(dir, 'R1', 'a.tif'), tiff(11));
    writeFileSync(path.join(dir, 'R1', 'broken.tif'), 'not a tiff');
    await first.watcher.scanOnce();
    await first.watcher.scanOnce();
    assert.deepEqual(
      summary(first.events).map(([kind, rel]) => [kind, rel]),
      [
        ['imported', 'R1/a.tif'],
        ['rejected', 'R1/broken.tif'],
      ],
    );

    const second = watcherOn(dir);
    await second.watcher.prepare();
    writeFileSync(path.join(dir, 'R1', 'b.tif'), tiff(12));
    await second.watcher.scanOnce();
    await second.watcher.scanOnce();
    assert.deepEqual(summary(second.events), [['imported', 'R1/b.tif', 'R1', null]]);

    // Even with its journal lost, a watcher imports nothing twice: the server's hashes say what it has.
    const third = watcherOn(dir, { state: path.join(root, 'lost-journal.jsonl') });
    await third.watcher.prepare();
    await third.watcher.scanOnce();
    await third.watcher.scanOnce();
    assert.deepEqual(
      summary(third.events).map(([kind, rel]) => [kind, rel]),
      [
        ['duplicate', 'R1/a.tif'],
        ['duplicate', 'R1/b.tif'],
        ['rejected', 'R1/broken.tif'],
      ],
    );
    assert.deepEqual((await imagesOf('R1')).sort(), ['a.tif', 'b.tif']);
  });

  test('running on its own, it picks up a file that appears and reports when its image is stored', async () => {
    const dir = path.join(root, 'live');
    mkdirSync(path.join(dir, 'LIVE'), { recursive: true });
    const events: WatchEvent[] = [];
    let arrived!: () => void;
    const imported = new Promise<void>((resolve) => (arrived = resolve));
    const watcher = new FolderWatcher({
      source: folderSource(dir),
      pattern: compileBundlePattern('{bundle}/**'),
      url: app.url,
      token: app.admin.token,
      statePath: path.join(dir, '.platina-import.jsonl'),
      pollMs: 50,
      settleMs: 100,
      onEvent: (e) => {
        events.push(e);
        arrived();
      },
    });
    watcher.start();
    writeFileSync(path.join(dir, 'LIVE', 'x.tif'), tiff(21));
    await imported;
    await watcher.stop();
    assert.equal(events[0].kind, 'imported');
    assert.ok(events[0].at >= events[0].modifiedMs);
    assert.deepEqual(await imagesOf('LIVE'), ['x.tif']);
  });
});

describe('npm run import -- --watch s3://bucket/prefix', () => {
  test('imports the objects that appear under the prefix, with their bundle from the pattern', async () => {
    const settings = parseImageStoreSpec(s3.env('x'), '/unused', 'api');
    assert.equal(settings.kind, 's3');
    if (settings.kind !== 's3') return;
    const { client, sdk } = await s3Client(settings.s3);
    for (const [key, seed] of [
      ['incoming/B7/one.tif', 31],
      ['incoming/B7/two.tif', 32],
      ['elsewhere/B8/three.tif', 33],
    ] as const)
      await client.send(new sdk.PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: tiff(seed) }));
    client.destroy();
    const events: WatchEvent[] = [];
    const source = bucketSource(s3.bucket, 'incoming', settings.s3);
    const watcher = new FolderWatcher({
      source,
      pattern: compileBundlePattern('{bundle}/*.tif'),
      url: app.url,
      token: app.admin.token,
      statePath: path.join(root, 'bucket.jsonl'),
      onEvent: (e) => events.push(e),
    });
    await watcher.prepare();
    await watcher.scanOnce(); // objects are listed only once complete: no second look needed
    source.close();
    assert.deepEqual(summary(events), [
      ['imported', 'B7/one.tif', 'B7', null],
      ['imported', 'B7/two.tif', 'B7', null],
    ]);
    assert.deepEqual((await imagesOf('B7')).sort(), ['one.tif', 'two.tif']);
  });
});
