import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromArrayBuffer } from 'geotiff';
import { generateDataset } from './generate.ts';
import { parseManifest } from './manifest.ts';

function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path.slice(dir.length), createHash('sha256').update(readFileSync(path)).digest('hex'));
  }
  return out;
}

describe('generateDataset', () => {
  test('small scale writes 96 TIFFs in 12 bundle folders and a manifest that describes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synth-'));
    try {
      const result = await generateDataset({ out: dir, seed: 5, scale: 'small', workers: 0 });
      const rows = parseManifest(readFileSync(join(dir, 'manifest.csv'), 'utf8'));
      assert.equal(rows.length, 96);
      assert.equal(result.images, 96);
      assert.equal(new Set(rows.map((r) => r.bundle)).size, 12);
      assert.deepEqual(
        rows.map((r) => ({ file: r.file, verdict: r.verdict, anomalies: r.anomalies })),
        result.plan.images.map((i) => ({ file: i.file, verdict: i.verdict, anomalies: i.anomalies })),
      );
      for (const r of rows) assert.ok(r.file.startsWith(`${r.bundle}/`), 'one folder per bundle');
      // A few files through geotiff: single-channel 16-bit of the manifest's size.
      for (const r of [rows[0], rows[50], rows[95]]) {
        const bytes = readFileSync(join(dir, r.file));
        const image = await (
          await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
        ).getImage();
        assert.equal(image.getWidth(), r.width);
        assert.equal(image.getHeight(), r.height);
        assert.equal(image.getSamplesPerPixel(), 1);
        assert.equal(Number(image.getFileDirectory().getValue('BitsPerSample')), 16);
      }
      const tiffBytes = [...hashTree(dir).keys()].filter((p) => p.endsWith('.tif')).length;
      assert.equal(tiffBytes, 96);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('is byte-for-byte deterministic for a seed, whatever the number of worker threads', async () => {
    const a = mkdtempSync(join(tmpdir(), 'synth-a-'));
    const b = mkdtempSync(join(tmpdir(), 'synth-b-'));
    const c = mkdtempSync(join(tmpdir(), 'synth-c-'));
    try {
      await generateDataset({ out: a, seed: 11, scale: 'small', bundles: 2, workers: 0 });
      await generateDataset({ out: b, seed: 11, scale: 'small', bundles: 2, workers: 2 });
      await generateDataset({ out: c, seed: 12, scale: 'small', bundles: 2, workers: 0 });
      const ha = hashTree(a);
      const hb = hashTree(b);
      const hc = hashTree(c);
      assert.equal(ha.size, 17); // 16 images + manifest
      assert.deepEqual(hb, ha);
      const differing = [...ha].filter(([p, h]) => p.endsWith('.tif') && hc.get(p) !== h).length;
      assert.equal(differing, 16, 'another seed changes every image');
    } finally {
      for (const d of [a, b, c]) rmSync(d, { recursive: true, force: true });
    }
  });
});
