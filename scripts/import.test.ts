import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../test/harness.ts';
import { buildTiff, syntheticXray16 } from '../lib/imaging/tiff-fixtures.ts';
import { importFolder, planImport, progressLine, type Progress } from '../lib/import/folder.ts';

let app: TestApp;
let folder: string;

const tiff = (seed: number) =>
  new Uint8Array(buildTiff({ width: 16, height: 24, data: syntheticXray16(16, 24, seed) }));

before(async () => {
  app = await startTestApp();
  folder = mkdtempSync(path.join(tmpdir(), 'platina-import-'));
  const put = (rel: string, bytes: Uint8Array | string) => {
    mkdirSync(path.dirname(path.join(folder, rel)), { recursive: true });
    writeFileSync(path.join(folder, rel), bytes);
  };
  put('bundle-1/a.tif', tiff(1));
  put('bundle-1/b.TIFF', tiff(2));
  put('bundle-1/nested/c.tif', tiff(3));
  put('bundle-1/notes.txt', 'not an image, not a TIFF name: ignored');
  put('bundle-2/d.tif', tiff(4));
  put('bundle-2/copy-of-a.tif', tiff(1)); // same bytes as bundle-1/a.tif
  put('bundle-2/photo.tif', Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16)); // a JPEG named .tif
  put('loose.tif', tiff(5)); // not in a bundle folder: ignored with --bundle-from-dir
});
after(async () => {
  await app?.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('npm run import', () => {
  test('plans one bundle per subfolder, TIFF names only, recursively', async () => {
    const plan = await planImport(folder, true);
    assert.deepEqual(
      plan.map((p) => [path.relative(folder, p.file), p.bundle]),
      [
        ['bundle-1/a.tif', 'bundle-1'],
        ['bundle-1/b.TIFF', 'bundle-1'],
        ['bundle-1/nested/c.tif', 'bundle-1'],
        ['bundle-2/copy-of-a.tif', 'bundle-2'],
        ['bundle-2/d.tif', 'bundle-2'],
        ['bundle-2/photo.tif', 'bundle-2'],
      ],
    );
  });

  test('imports new images, skips what is there, and reports rejections with the server’s reason', async () => {
    const seen: Progress[] = [];
    const first = await importFolder({
      folder,
      bundleFromDir: true,
      url: app.url,
      token: app.admin.token,
      concurrency: 1,
      progress: (p) => seen.push(p),
    });
    assert.deepEqual(first.imported, [
      'bundle-1/a.tif',
      'bundle-1/b.TIFF',
      'bundle-1/nested/c.tif',
      'bundle-2/d.tif',
    ]);
    assert.deepEqual(first.skipped, ['bundle-2/copy-of-a.tif']);
    assert.deepEqual(first.rejected, [
      {
        file: 'bundle-2/photo.tif',
        status: 422,
        reason:
          'Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is not a TIFF (starts with bytes FF D8 FF E0: a JPEG).',
      },
    ]);
    assert.deepEqual(first.failed, []);
    assert.equal(seen.length, 6);
    assert.equal(seen.at(-1)!.done, 6);

    const bundles = await app.request('GET', '/api/bundles', { token: app.admin.token });
    assert.deepEqual(
      bundles.body.map((b: { name: string; images: number }) => [b.name, b.images]),
      [
        ['bundle-1', 3],
        ['bundle-2', 1],
      ],
    );

    const again = await importFolder({ folder, bundleFromDir: true, url: app.url, token: app.admin.token });
    assert.deepEqual(again.imported, []);
    assert.equal(again.skipped.length, 5);
    assert.equal(again.rejected.length, 1);
  });

  test('a single --bundle takes every TIFF of the folder', async () => {
    const plan = await planImport(path.join(folder, 'bundle-2'), false, 'b2');
    assert.ok(plan.every((p) => p.bundle === 'b2'));
    await assert.rejects(planImport(folder, false), /give --bundle-from-dir/);
  });

  test('an image far outside the method-2 bounds is imported and flagged with the server’s message', async () => {
    const odd = mkdtempSync(path.join(tmpdir(), 'platina-import-odd-'));
    try {
      const bright = Uint16Array.from({ length: 16 * 24 }, (_, i) => 60000 + (i % 500));
      writeFileSync(
        path.join(odd, 'exposure.tif'),
        new Uint8Array(buildTiff({ width: 16, height: 24, data: bright })),
      );
      const r = await importFolder({
        folder: odd,
        bundleFromDir: false,
        bundle: 'odd',
        url: app.url,
        token: app.admin.token,
      });
      assert.deepEqual(r.imported, ['exposure.tif']);
      assert.equal(r.flagged.length, 1);
      assert.equal(r.flagged[0].file, 'exposure.tif');
      assert.match(
        r.flagged[0].message,
        /^its values 60000–60383 \(0\.01–99\.99 %\) lie far outside the method-2 bounds /,
      );
    } finally {
      rmSync(odd, { recursive: true, force: true });
    }
  });

  test('a wrong token stops the import before any upload, saying why', async () => {
    const r = await importFolder({ folder, bundleFromDir: true, url: app.url, token: 'nope' }).catch(
      (e: Error) => e,
    );
    assert.ok(r instanceof Error);
    assert.match(r.message, /^listing images failed: 401 /);
  });

  test('the progress line shows bar, counts, rate and file', () => {
    const line = progressLine({ done: 3, total: 12, current: 'b/x.tif', startedAt: Date.now() - 1000 }, 8);
    assert.match(line, /^\[##------\] 3\/12 25% [\d.]+ img\/s ETA \d+:\d\d b\/x\.tif$/);
  });

  test('the CLI explains its usage and exits 2 on bad arguments', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import.ts', folder], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^give --bundle-from-dir \(one subfolder per bundle\) or --bundle <name>\nusage: npm run import/,
    );
    const unknown = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/import.ts', folder, '--bundel', 'x'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^unknown option --bundel\n/);
  });

  test('--watch imports TIFFs as they arrive, prints each with its bundle, and stops cleanly on SIGTERM', async () => {
    const incoming = mkdtempSync(path.join(tmpdir(), 'platina-watch-cli-'));
    try {
      mkdirSync(path.join(incoming, 'W1'));
      writeFileSync(path.join(incoming, 'W1', 'w.tif'), tiff(41));
      const child = spawn(
        process.execPath,
        [
          ...['--import', 'tsx', 'scripts/import.ts', '--watch', incoming],
          ...['--bundle-pattern', '{bundle}/**', '--url', app.url, '--settle-ms', '0', '--poll-ms', '50'],
        ],
        {
          env: {
            ...process.env,
            PLATINA_TOKEN: app.admin.token,
            PLATINA_PASSWORD: '',
            PLATINA_ADMIN_PASSWORD: '',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('\n')) resolve();
        });
        void exited.then(() => reject(new Error(`exited early: ${out}`)));
      });
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.equal(out, 'imported W1/w.tif (bundle W1)\n');
    } finally {
      rmSync(incoming, { recursive: true, force: true });
    }
  });
});
