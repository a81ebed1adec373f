import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convert, stretchBounds, type Conversion } from './conversions.ts';
import type { GrayImage } from './gray-image.ts';
import {
  convertAndResize,
  IMAGENET_MEAN,
  IMAGENET_STD,
  PAPER_INPUT_SIZE,
  previewSize,
  resizeGray,
  resizePlanes,
  toModelInput,
} from './resize.ts';
import { syntheticXray16 } from './tiff-fixtures.ts';

const row8 = (values: number[]): GrayImage => ({
  width: values.length,
  height: 1,
  bitDepth: 8,
  data: Uint8Array.from(values),
});

describe('shrinking averages the covered area', () => {
  test('halving averages 2×2 blocks (rounded, halves up)', () => {
    const img: GrayImage = {
      width: 4,
      height: 2,
      bitDepth: 16,
      data: Uint16Array.of(0, 10, 100, 101, 20, 30, 200, 200),
    };
    const out = resizeGray(img, { width: 2, height: 1 });
    assert.deepEqual([...out.data], [15, 150]); // (0+10+20+30)/4 = 15; (100+101+200+200)/4 = 150.25
  });

  test('a non-integer factor weights partly covered pixels by their overlap: 3 → 2', () => {
    // out0 covers [0, 1.5): (0 + 0.5·30) / 1.5 = 10; out1 covers [1.5, 3): (0.5·30 + 60) / 1.5 = 50
    assert.deepEqual([...resizeGray(row8([0, 30, 60]), { width: 2, height: 1 }).data], [10, 50]);
  });

  test('a constant image stays constant at any size', () => {
    const img: GrayImage = {
      width: 1150,
      height: 7,
      bitDepth: 16,
      data: new Uint16Array(1150 * 7).fill(2345),
    };
    const out = resizeGray(img, { width: 1000, height: 3 });
    assert.ok(out.data.every((v) => v === 2345));
  });

  test('the mean brightness is preserved (to rounding)', () => {
    const px = syntheticXray16(115, 207, 3);
    const img: GrayImage = { width: 115, height: 207, bitDepth: 16, data: px };
    const out = resizeGray(img, { width: 100, height: 200 });
    const mean = (a: ArrayLike<number>) => {
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += a[i];
      return sum / a.length;
    };
    assert.ok(Math.abs(mean(out.data) - mean(px)) < 1, `${mean(out.data)} vs ${mean(px)}`);
  });
});

describe('enlarging interpolates bilinearly between pixel centres', () => {
  test('2 → 4: 0, 25, 75, 100 (edges clamped)', () => {
    assert.deepEqual([...resizeGray(row8([0, 100]), { width: 4, height: 1 }).data], [0, 25, 75, 100]);
  });

  test('a single pixel is replicated', () => {
    assert.deepEqual([...resizeGray(row8([77]), { width: 3, height: 2 }).data], [77, 77, 77, 77, 77, 77]);
  });

  test('one axis can shrink while the other grows', () => {
    const img: GrayImage = { width: 2, height: 2, bitDepth: 8, data: Uint8Array.of(0, 100, 100, 200) };
    // width 2 → 1 averages each row (50, 150); height 2 → 4 interpolates 50, 75, 125, 150
    assert.deepEqual([...resizeGray(img, { width: 1, height: 4 }).data], [50, 75, 125, 150]);
  });
});

test('the same size returns the same pixels', () => {
  const px = syntheticXray16(31, 17, 2);
  assert.deepEqual(
    resizeGray({ width: 31, height: 17, bitDepth: 16, data: px }, { width: 31, height: 17 }).data,
    px,
  );
});

describe('convert + resize, fused', () => {
  const image: GrayImage = { width: 115, height: 207, bitDepth: 16, data: syntheticXray16(115, 207, 11) };
  const global = stretchBounds(1700, 28000);
  const local = stretchBounds(1720, 2790);
  const conversions: Conversion[] = [
    { method: 1 },
    { method: 2, global },
    { method: 3, local },
    { method: 4, global, local },
  ];

  for (const c of conversions) {
    test(`method ${c.method}: equals converting at full size, then resizing`, () => {
      const size = { width: 100, height: 200 };
      const fused = convertAndResize(image, c, size);
      const stepwise = resizePlanes(convert(image, c), size);
      assert.equal(fused.planes.length, c.method === 4 ? 3 : 1);
      assert.deepEqual(fused, stepwise);
    });
  }

  test('the model input is 3 × 2000 × 1000 by default, each channel ImageNet-normalised', async () => {
    const flat: GrayImage = { width: 8, height: 8, bitDepth: 16, data: new Uint16Array(64).fill(2250) };
    const input = toModelInput(
      flat,
      { method: 3, local: stretchBounds(1700, 2800) },
      { width: 4, height: 6 },
    );
    assert.equal(input.data.length, 3 * 4 * 6);
    // 2250 → level 128 in all three channels (method 3 replicated), normalised per channel
    for (let c = 0; c < 3; c++) {
      const expected = (128 / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
      for (let i = 0; i < 24; i++) assert.ok(Math.abs(input.data[c * 24 + i] - expected) < 1e-6);
    }
    assert.deepEqual(PAPER_INPUT_SIZE, { width: 1000, height: 2000 });
  });

  test('method 4 model input keeps its three channels distinct (R = method 1, G = 2, B = 3)', () => {
    const flat: GrayImage = { width: 2, height: 2, bitDepth: 16, data: new Uint16Array(4).fill(2250) };
    const input = toModelInput(
      flat,
      { method: 4, global, local: stretchBounds(1700, 2800) },
      { width: 1, height: 1 },
    );
    const levels = [8, 5, 128]; // floor(2250/256); (550/26300)·256 → 5; (550/1100)·256 = 128
    levels.forEach((v, c) =>
      assert.ok(Math.abs(input.data[c] - (v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]) < 1e-6),
    );
  });
});

test('previews keep the aspect ratio', () => {
  assert.deepEqual(previewSize({ width: 1150, height: 2070 }, 500), { width: 500, height: 900 });
  assert.deepEqual(previewSize({ width: 1000, height: 1 }, 10), { width: 10, height: 1 });
});

test('impossible sizes are refused', () => {
  assert.throws(() => resizeGray(row8([1, 2]), { width: 0, height: 1 }), RangeError);
});
