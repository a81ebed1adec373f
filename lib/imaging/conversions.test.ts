import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GrayImage } from './gray-image.ts';
import {
  channelsOf,
  conversionLuts,
  convert,
  globalBounds,
  localBounds,
  naive,
  naiveLut,
  stretch,
  stretchBounds,
  stretchLut,
} from './conversions.ts';

describe('stretch(x, lo, hi) = min(255, floor((clamp(x, lo, hi) − lo) / (hi − lo) × 256))', () => {
  test('at lo it is 0, below lo it clips to 0', () => {
    assert.equal(stretch(1700, 1700, 2800), 0);
    assert.equal(stretch(0, 1700, 2800), 0);
    assert.equal(stretch(1699, 1700, 2800), 0);
  });

  test('at hi the formula gives 256, clipped to 255; above hi also 255', () => {
    assert.equal(stretch(2800, 1700, 2800), 255);
    assert.equal(stretch(65535, 1700, 2800), 255);
  });

  test('hand-worked interior values with the paper bounds 1700..28000', () => {
    // (2800 − 1700) / 26300 × 256 = 10.707… → 10: the coating occupies ~10 levels (docs/domain.md, "Method 2: global bounds")
    assert.equal(stretch(2800, 1700, 28000), 10);
    // (14850 − 1700) / 26300 × 256 = 128 exactly
    assert.equal(stretch(14850, 1700, 28000), 128);
    assert.equal(stretch(14849, 1700, 28000), 127);
    // (27999 − 1700) / 26300 × 256 = 255.99… → 255
    assert.equal(stretch(27999, 1700, 28000), 255);
  });

  test('the top level 255 starts where (x − lo) / (hi − lo) reaches 255/256', () => {
    // lo 0, hi 1024: x = 1020 → 255 exactly; 1019 → 254.75 → 254
    assert.equal(stretch(1020, 0, 1024), 255);
    assert.equal(stretch(1019, 0, 1024), 254);
  });

  test('the quotient is floored exactly: r·(hi−lo) ≤ (x−lo)·256 < (r+1)·(hi−lo) for every r below 255', () => {
    for (let span = 1; span <= 3000; span++) {
      for (let d = 0; d <= span; d += span > 300 ? 7 : 1) {
        const r = stretch(100 + d, 100, 100 + span);
        const ok = r === 255 ? d * 256 >= 255 * span : r * span <= d * 256 && d * 256 < (r + 1) * span;
        if (!ok) assert.fail(`span=${span} d=${d} gave ${r}`);
      }
    }
  });

  test('hi == lo does not divide by zero: 0 at or below the bound, 255 above it', () => {
    assert.equal(stretch(1999, 2000, 2000), 0);
    assert.equal(stretch(2000, 2000, 2000), 0);
    assert.equal(stretch(2001, 2000, 2000), 255);
    const lut = stretchLut(stretchBounds(2000, 2000), 16);
    assert.deepEqual([lut[1999], lut[2000], lut[2001], lut[65535]], [0, 0, 255, 255]);
  });
});

describe('method 1 (naive): floor(x / 256), identity for 8-bit input', () => {
  test('the coating range 1700..2800 becomes 6..10, as in the paper', () => {
    assert.equal(naive(1700, 16), 6);
    assert.equal(naive(2800, 16), 10);
    assert.deepEqual([naive(0, 16), naive(255, 16), naive(256, 16), naive(65535, 16)], [0, 0, 1, 255]);
  });

  test('8-bit input is unchanged', () => {
    const lut = naiveLut(8);
    assert.equal(lut.length, 256);
    assert.ok(lut.every((v, i) => v === i));
  });
});

describe('global bounds (method 2): min of 0.01th and max of 99.99th percentiles, rounded to hundreds for 16-bit', () => {
  test("the paper's example: 27960 rounds up to 28000, 1749 down to 1700", () => {
    const b = globalBounds(
      [
        { p0_01: 1749, p99_99: 2710 },
        { p0_01: 1800, p99_99: 27960 },
        { p0_01: 2100, p99_99: 2650 },
      ],
      16,
    );
    assert.deepEqual(b, { lo: 1700, hi: 28000 });
  });

  test('halves round up (1750 → 1800) and the extremes come from different images', () => {
    assert.deepEqual(
      globalBounds(
        [
          { p0_01: 1750, p99_99: 2000 },
          { p0_01: 3000, p99_99: 2049 },
        ],
        16,
      ),
      { lo: 1800, hi: 2000 },
    );
  });

  test('8-bit bounds stay exact (no rounding on 0–255)', () => {
    assert.deepEqual(
      globalBounds(
        [
          { p0_01: 12, p99_99: 201 },
          { p0_01: 9, p99_99: 187 },
        ],
        8,
      ),
      { lo: 9, hi: 201 },
    );
  });

  test('no images, no bounds', () => {
    assert.equal(globalBounds([], 16), null);
  });

  test('local bounds (method 3) are the image’s own percentiles, unrounded', () => {
    assert.deepEqual(localBounds({ p0_01: 1749, p99_99: 2781 }), { lo: 1749, hi: 2781 });
  });

  test('bounds must be integers with lo ≤ hi', () => {
    assert.throws(() => stretchBounds(10, 9), RangeError);
    assert.throws(() => stretchBounds(1.5, 9), RangeError);
  });
});

describe('lookup tables equal the scalar formulas for every value', () => {
  test('16-bit stretch tables, several bounds including ones beyond the range', () => {
    for (const [lo, hi] of [
      [1700, 28000],
      [1749, 2781],
      [0, 65535],
      [0, 1],
      [65000, 65600],
    ]) {
      const lut = stretchLut(stretchBounds(lo, hi), 16);
      for (let x = 0; x < 65536; x++)
        if (lut[x] !== stretch(x, lo, hi)) assert.fail(`x=${x} lo=${lo} hi=${hi}`);
    }
  });

  test('8-bit stretch table', () => {
    const lut = stretchLut(stretchBounds(9, 201), 8);
    assert.equal(lut.length, 256);
    for (let x = 0; x < 256; x++) assert.equal(lut[x], stretch(x, 9, 201));
    assert.deepEqual([lut[9], lut[105], lut[201]], [0, 128, 255]);
  });
});

describe('convert applies methods 1–4 to whole images', () => {
  const image: GrayImage = {
    width: 4,
    height: 1,
    bitDepth: 16,
    data: Uint16Array.of(1000, 1700, 2250, 30000),
  };
  const global = stretchBounds(1700, 28000);
  const local = stretchBounds(1700, 2800);

  test('method 1: one plane, floor(x/256)', () => {
    assert.deepEqual([...convert(image, { method: 1 }).planes[0]], [3, 6, 8, 117]);
  });

  test('method 2: one plane stretched between the global bounds', () => {
    // 2250: (550 / 26300) × 256 = 5.35 → 5
    assert.deepEqual([...convert(image, { method: 2, global }).planes[0]], [0, 0, 5, 255]);
  });

  test('method 3: one plane stretched between the image’s own bounds', () => {
    // 2250: 550 / 1100 × 256 = 128
    assert.deepEqual([...convert(image, { method: 3, local }).planes[0]], [0, 0, 128, 255]);
  });

  test('method 4: three planes, R = method 1, G = method 2, B = method 3', () => {
    const { planes } = convert(image, { method: 4, global, local });
    assert.equal(planes.length, 3);
    assert.deepEqual(
      planes.map((p) => [...p]),
      [
        [3, 6, 8, 117],
        [0, 0, 5, 255],
        [0, 0, 128, 255],
      ],
    );
    assert.equal(channelsOf(4), 3);
    assert.equal(channelsOf(2), 1);
  });

  test('8-bit images: method 1 identity, methods 2 and 3 stretch with exact bounds', () => {
    const img8: GrayImage = { width: 3, height: 1, bitDepth: 8, data: Uint8Array.of(10, 60, 110) };
    assert.deepEqual([...convert(img8, { method: 1 }).planes[0]], [10, 60, 110]);
    assert.deepEqual(
      [...convert(img8, { method: 3, local: stretchBounds(10, 110) }).planes[0]],
      [0, 128, 255],
    );
    assert.equal(conversionLuts({ method: 2, global: stretchBounds(10, 110) }, 8)[0].length, 256);
  });
});
