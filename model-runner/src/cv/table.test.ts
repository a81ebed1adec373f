import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { summarize } from './metrics.ts';
import { formatAnomalyTable, formatTable1 } from './table.ts';
import { parseAnomalies, parseCsv, readManifest } from './dataset.ts';
import { scoreAnomalyTypes } from './average-precision.ts';

describe("the paper's Table 1 layout", () => {
  test('rows are bundles then the pooled overall, columns methods, cells % with two decimals, "—" explained', () => {
    const m1 = summarize([
      { bundle: '1', tp: 1, fp: 0, tn: 9, fn: 1 },
      { bundle: '2', tp: 0, fp: 1, tn: 5, fn: 0 },
    ]);
    const m2 = summarize([
      { bundle: '1', tp: 2, fp: 0, tn: 9, fn: 0 },
      { bundle: '2', tp: 0, fp: 0, tn: 6, fn: 0 },
    ]);
    const table = formatTable1([
      { method: 1, crossValidation: m1 },
      { method: 2, crossValidation: m2 },
    ]).split('\n');
    assert.match(table[0], /^Bundle\s+Method 1\s+Method 2$/);
    assert.match(table[1], /^1\s+75\.00\s+100\.00$/);
    assert.match(table[2], /^2\s+—\s+—$/);
    // Pooled method 1: TP 1, FN 1, TN 14, FP 1 → (0.5 + 14/15) / 2 = 71.67 %.
    assert.match(table[3], /^Overall\s+71\.67\s+100\.00$/);
    assert.match(table[4], /bundle 2: no abnormal images/);
  });
});

describe('manifest CSV', () => {
  test('quoted fields keep commas, doubled quotes and newlines; CRLF ends rows', () => {
    assert.deepEqual(
      parseCsv('file,bundle,anomalies\r\na.tif,1,"scratches:0.7, bubbles:0.2"\r\n"b ""x"".tif",2,"a\nb"\n'),
      [
        ['file', 'bundle', 'anomalies'],
        ['a.tif', '1', 'scratches:0.7, bubbles:0.2'],
        ['b "x".tif', '2', 'a\nb'],
      ],
    );
  });
});

describe('the per-type average precision table beside Table 1', () => {
  test('rows are the 11 types with positives, share and prior-only AP, columns methods, then the mean; "—" explained', () => {
    // 10 images; scratches: 5 positives, ranked perfectly by method 1 and half-right by method 2; lines: 1 positive.
    const truth = new Uint8Array(10 * 11);
    for (let i = 0; i < 5; i++) truth[i * 11] = 1;
    truth[0 * 11 + 1] = 1;
    const ranked = Float32Array.from({ length: 110 }, (_, j) =>
      j % 11 === 0 ? 1 - Math.floor(j / 11) / 10 : 0.5,
    );
    const flipped = Float32Array.from({ length: 110 }, (_, j) =>
      j % 11 === 0 ? (Math.floor(j / 11) % 2) / 2 : 0.5,
    );
    // One fold: the prior-only model ties every image, so its AP is the share.
    const flat = new Float32Array(110).fill(0.3);
    const known = new Uint8Array(10).fill(1);
    const lines = formatAnomalyTable([
      { method: 1, crossValidation: { anomalies: scoreAnomalyTypes(truth, ranked, flat, known) } },
      { method: 2, crossValidation: { anomalies: scoreAnomalyTypes(truth, flipped, flat, known) } },
      { method: 3, crossValidation: {} },
    ]).split('\n');
    assert.match(lines[0], /^Type\s+Positives\s+Share\s+Prior only\s+Method 1\s+Method 2$/);
    // Method 2 scores images 1, 3, 5, 7, 9 at 0.5 (positives 1, 3 among them) and the rest at 0: P = 2/5 at R = 2/5,
    // then P = 5/10 at R = 1 → 0.4 · 0.4 + 0.6 · 0.5 = 46 %.
    assert.match(lines[1], /^Scratches\s+5\s+50\.00\s+50\.00\s+100\.00\s+46\.00$/);
    assert.match(lines[2], /^Lines\s+1\s+10\.00\s+—\s+—\s+—$/);
    assert.match(lines[11], /^Ink entry\/exit\s+0\s+0\.00\s+—\s+—\s+—$/);
    assert.match(lines[12], /^Mean\s+50\.00\s+50\.00\s+100\.00\s+46\.00$/);
    assert.equal(lines[13], '— Lines: 1 positive image (fewer than 5): too few for a number');
    assert.equal(lines.at(-1), 'Mean: over the 1 types with a number');
    assert.equal(formatAnomalyTable([{ method: 1, crossValidation: {} }]), '');
  });
});

describe('manifest anomaly types', () => {
  test('codes with a severity count from the severity experts list (0.15); bare codes always; unknown codes fail', () => {
    assert.deepEqual(parseAnomalies('scratches:0.71;bubbles:0.14;lines:0.15', 'x'), ['scratches', 'lines']);
    assert.deepEqual(parseAnomalies('smudges; missing_ink', 'x'), ['smudges', 'missing_ink']);
    assert.deepEqual(parseAnomalies('', 'x'), []);
    assert.throws(
      () => parseAnomalies('dents:0.9', 'manifest.csv line 3'),
      /line 3: unknown anomaly type "dents"/,
    );
    assert.throws(() => parseAnomalies('lines:high', 'x'), /severity "high" of lines is not a number/);
  });

  test('readManifest gives each image its types when the column exists, and none otherwise', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'platina-manifest-'));
    try {
      await writeFile(
        path.join(dir, 'manifest.csv'),
        'file,bundle,verdict,anomalies\nb1/a.tif,b1,abnormal,edge_cuts:0.62;smudges:0.05\nb1/b.tif,b1,normal,\n',
      );
      const images = await readManifest(dir);
      assert.deepEqual(
        images.map((i) => [i.file, i.abnormal, i.anomalies]),
        [
          ['b1/a.tif', true, ['edge_cuts']],
          ['b1/b.tif', false, []],
        ],
      );
      await writeFile(path.join(dir, 'manifest.csv'), 'file,bundle,verdict\nb1/a.tif,b1,normal\n');
      assert.equal((await readManifest(dir))[0].anomalies, undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
