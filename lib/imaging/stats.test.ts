import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GrayImage } from './gray-image.ts';
import { computeStats, percentileFromHistogram } from './stats.ts';

function gray16(values: number[], width = values.length): GrayImage {
  return { width, height: values.length / width, bitDepth: 16, data: Uint16Array.from(values) };
}

/** Reference nearest-rank percentile by sorting (what the histogram version must equal). */
function sortedNearestRank(values: number[], perTenThousand: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((sorted.length * perTenThousand) / 10000)) - 1];
}

describe('percentiles are nearest-rank: the smallest value with at least ceil(p·N) values at or below it', () => {
  test('0.01th percentile of 20000 values 0..19999 is the 2nd smallest value (rank ceil(2) = 2)', () => {
    const s = computeStats(
      gray16(
        Array.from({ length: 20000 }, (_, i) => i),
        200,
      ),
    );
    assert.equal(s.p0_01, 1);
    assert.equal(s.p99_99, 19997); // rank ceil(0.9999 · 20000) = 19998 → value 19997
  });

  test('0.01% of 2 000 000 pixels is rank 200 exactly, not 201 through floating point', () => {
    const counts = new Uint32Array(65536);
    counts[10] = 200;
    counts[11] = 1_999_800;
    assert.equal(percentileFromHistogram(counts, 2_000_000, 1, 10000), 10);
    counts[10] = 199;
    counts[11] = 1_999_801;
    assert.equal(percentileFromHistogram(counts, 2_000_000, 1, 10000), 11);
  });

  test('with fewer than 10000 pixels the 0.01th percentile is the minimum and the 99.99th the maximum', () => {
    const s = computeStats(gray16([500, 3, 70, 9000, 42, 42]));
    assert.deepEqual([s.min, s.p0_01, s.p99_99, s.max], [3, 3, 9000, 9000]);
  });

  test('equals a sort-based nearest-rank reference on random data', () => {
    let seed = 7;
    const values = Array.from({ length: 30011 }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % 65536;
    });
    const s = computeStats(gray16(values, 30011));
    assert.equal(s.p0_01, sortedNearestRank(values, 1));
    assert.equal(s.p99_99, sortedNearestRank(values, 9999));
    assert.equal(s.min, Math.min(...values));
    assert.equal(s.max, Math.max(...values));
  });
});

describe('statistics of 16-bit images', () => {
  test('min and max are exact', () => {
    const s = computeStats(gray16([1700, 2800, 28000, 1750], 2));
    assert.equal(s.min, 1700);
    assert.equal(s.max, 28000);
  });

  test('the display histogram has 1024 bins of width 64 over the full range and counts every pixel', () => {
    const s = computeStats(gray16([0, 63, 64, 65535, 2000, 2047, 2048, 1000]));
    assert.equal(s.histogram.binWidth, 64);
    assert.equal(s.histogram.counts.length, 1024);
    assert.equal(s.histogram.counts[0], 2); // 0, 63
    assert.equal(s.histogram.counts[1], 1); // 64
    assert.equal(s.histogram.counts[15], 1); // 1000
    assert.equal(s.histogram.counts[31], 2); // 2000, 2047
    assert.equal(s.histogram.counts[32], 1); // 2048
    assert.equal(s.histogram.counts[1023], 1); // 65535
    assert.equal(
      s.histogram.counts.reduce((a, b) => a + b, 0),
      8,
    );
  });
});

describe('statistics of 8-bit images', () => {
  test('the display histogram has 256 bins of width 1, one per value', () => {
    const img: GrayImage = { width: 3, height: 2, bitDepth: 8, data: Uint8Array.of(0, 255, 255, 7, 7, 7) };
    const s = computeStats(img);
    assert.deepEqual([s.min, s.max, s.p0_01, s.p99_99], [0, 255, 0, 255]);
    assert.equal(s.histogram.binWidth, 1);
    assert.equal(s.histogram.counts.length, 256);
    assert.deepEqual([s.histogram.counts[0], s.histogram.counts[7], s.histogram.counts[255]], [1, 3, 2]);
  });
});

test('an image whose pixel count does not match its size is refused', () => {
  assert.throws(
    () => computeStats({ width: 2, height: 2, bitDepth: 8, data: new Uint8Array(3) }),
    RangeError,
  );
});
