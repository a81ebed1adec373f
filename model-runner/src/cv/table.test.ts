import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { summarize } from './metrics.ts';
import { formatTable1 } from './table.ts';
import { parseCsv } from './dataset.ts';

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
