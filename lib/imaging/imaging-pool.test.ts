import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stretchBounds } from './conversions.ts';
import { createImagingPool, type ImagingPool } from './imaging-pool.ts';
import { inspect } from './tasks.ts';
import { InvalidImageError } from './tiff-decode.ts';
import { buildTiff, syntheticXray16 } from './tiff-fixtures.ts';

describe('the imaging worker pool (workers run TypeScript through tsx)', () => {
  let pool: ImagingPool;
  let dir: string;
  const px = syntheticXray16(120, 210, 4);
  const tiff = new Uint8Array(buildTiff({ width: 120, height: 210, data: px }));

  before(async () => {
    pool = createImagingPool({ size: 1 });
    dir = await mkdtemp(join(tmpdir(), 'platina-imaging-'));
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('inspects a TIFF from a file path: same result as in-thread', async () => {
    const path = join(dir, 'a.tif');
    await writeFile(path, tiff);
    const info = await pool.run('inspect', { source: { path } });
    assert.deepEqual(info, await inspect({ source: { bytes: tiff } }));
    assert.equal(info.bitDepth, 16);
    assert.ok(info.stats.histogram.counts instanceof Uint32Array);
  });

  test('transfers input bytes instead of copying them', async () => {
    const copy = tiff.slice();
    const info = await pool.run('inspect', { source: { bytes: copy } }, [copy.buffer]);
    assert.equal(copy.byteLength, 0, 'the buffer moved to the worker');
    assert.equal(info.width, 120);
  });

  test('an invalid image rejects with a typed InvalidImageError, message intact', async () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0);
    await assert.rejects(pool.run('inspect', { source: { bytes: png } }), (err: unknown) => {
      assert.ok(err instanceof InvalidImageError);
      assert.equal(err.reason, 'not_tiff');
      assert.equal(
        err.message,
        'Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is not a TIFF (starts with bytes 89 50 4E 47: a PNG).',
      );
      return true;
    });
  });

  test('renders a PNG preview and a model input off the main thread', async () => {
    const png = await pool.run('preview', { source: { bytes: tiff }, conversion: { method: 1 }, width: 60 });
    assert.ok(png instanceof Uint8Array);
    assert.equal(new DataView(png.buffer, png.byteOffset).getUint32(16), 60); // IHDR width
    assert.equal(new DataView(png.buffer, png.byteOffset).getUint32(20), 105); // 210 · 60 / 120
    const global = stretchBounds(1700, 28000);
    const input = await pool.run('modelInput', {
      source: { bytes: tiff },
      conversion: { method: 4, global, local: global },
      size: { width: 50, height: 100 },
    });
    assert.ok(input.data instanceof Float32Array);
    assert.equal(input.data.length, 3 * 50 * 100);
  });

  test('runs queued tasks in order of submission, all completing', async () => {
    const results = await Promise.all([1, 2, 3].map(() => pool.run('inspect', { source: { bytes: tiff } })));
    assert.equal(results.length, 3);
    assert.ok(results.every((r) => r.stats.max === results[0].stats.max));
  });

  test('a missing file rejects with the file system error', async () => {
    await assert.rejects(pool.run('inspect', { source: { path: join(dir, 'missing.tif') } }), /ENOENT/);
  });
});

test('a closed pool refuses new work', async () => {
  const pool = createImagingPool({ size: 1 });
  await pool.close();
  await assert.rejects(pool.run('inspect', { source: { bytes: new Uint8Array(0) } }), /closed/);
});
