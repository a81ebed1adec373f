import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GrayImage } from '../../../lib/imaging/gray-image.ts';
import { noisePicture, paint, to16, to8 } from './residual-fixtures.ts';
import { robustNormalise, workingImage } from './working-image.ts';

const image16 = (width: number, height: number, f: (x: number, y: number) => number): GrayImage => {
  const data = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, bitDepth: 16, data };
};

describe('workingImage: integer area average to a short side near 288 px', () => {
  test('a full-size 1150×2070 electrode is averaged 4×4 into 287×517', () => {
    const w = workingImage(image16(1150, 2070, () => 2800));
    assert.deepEqual([w.width, w.height, w.factor], [287, 517, 4]);
    assert.ok(w.data.every((v) => v === 2800));
  });

  test('the factor is max(1, round(short side / 288)); the remainder columns and rows are dropped', () => {
    const sizes = (width: number, height: number) => {
      const w = workingImage(image16(width, height, () => 0));
      return [w.width, w.height, w.factor];
    };
    assert.deepEqual(sizes(600, 400), [600, 400, 1]); // 400 / 288 = 1.39 → 1
    assert.deepEqual(sizes(1001, 700), [500, 350, 2]); // 700 / 288 = 2.43 → 2; column 1000 dropped
    assert.deepEqual(sizes(300, 3000), [300, 3000, 1]); // the short side decides
    assert.deepEqual(sizes(4000, 6000), [285, 428, 14]);
  });

  test('each working pixel is the exact mean of its block, kept as a float (no 8-bit rounding)', () => {
    // Blocks of 2×2 with values 2800, 2800, 2800, 2801: the mean 2800.25 survives.
    const w = workingImage(image16(864, 576, (x, y) => 2800 + (x % 2 === 1 && y % 2 === 1 ? 1 : 0)));
    assert.equal(w.factor, 2);
    assert.ok(w.data.every((v) => v === 2800.25));
    // A block-wise pattern comes through unchanged at block resolution.
    const p = workingImage(image16(864, 576, (x, y) => 1000 * ((x >> 1) % 3) + ((y >> 1) % 5)));
    for (const [x, y] of [
      [0, 0],
      [7, 3],
      [431, 287],
    ])
      assert.equal(p.data[y * p.width + x], 1000 * (x % 3) + (y % 5));
  });

  test('8-bit images keep their bit depth and values', () => {
    const data = new Uint8Array(600 * 600).fill(117);
    const w = workingImage({ width: 600, height: 600, bitDepth: 8, data });
    assert.equal(w.bitDepth, 8);
    assert.equal(w.factor, 2);
    assert.ok(w.data.every((v) => v === 117));
  });

  test('an image under 32 px on a side is enlarged by pixel replication: 40×30 → 80×60, factor 1/2', () => {
    const w = workingImage(image16(40, 30, (x, y) => 100 * y + x));
    assert.deepEqual([w.width, w.height, w.factor], [80, 60, 0.5]);
    assert.equal(w.data[0], 0);
    assert.equal(w.data[1], 0); // replicated
    assert.equal(w.data[2], 1);
    assert.equal(w.data[59 * 80 + 79], 100 * 29 + 39);
    const tiny = workingImage(image16(10, 5, () => 7)); // k = ceil(32 / 5) = 7
    assert.deepEqual([tiny.width, tiny.height], [70, 35]);
  });
});

describe('robustNormalise: (x − median) / robust pixel noise', () => {
  test('white noise of σ 40 is measured as 40 (within 3 %) and the result has median 0', () => {
    const w = workingImage(to16(noisePicture(600, 400, 3000, 40)));
    const n = robustNormalise(w);
    assert.ok(Math.abs(n.noise - 40) < 1.2, `noise ${n.noise}`);
    assert.ok(Math.abs(n.level - 3000) < 1, `level ${n.level}`);
    const sorted = Float32Array.from(n.data).sort();
    assert.ok(Math.abs(sorted[sorted.length >> 1]) < 0.01);
    // Unit noise: about 68 % of the values within ±1.
    const inside = n.data.filter((v) => Math.abs(v) <= 1).length / n.data.length;
    assert.ok(Math.abs(inside - 0.683) < 0.01, `inside ${inside}`);
  });

  test('the noise estimate ignores gradients and a few bright defects', () => {
    const plain = robustNormalise(workingImage(to16(noisePicture(600, 400, 3000, 40)))).noise;
    const busy = noisePicture(600, 400, 3000, 40);
    paint(busy, (x, y) => 4 * x + 2 * y + ((x - 300) ** 2 + (y - 200) ** 2 < 100 ? 2000 : 0));
    const noise = robustNormalise(workingImage(to16(busy))).noise;
    assert.ok(Math.abs(noise / plain - 1) < 0.02, `${noise} vs ${plain}`);
  });

  test('area averaging by 4 divides white noise by 4', () => {
    const n = robustNormalise(workingImage(to16(noisePicture(1152, 1152, 3000, 40))));
    assert.ok(Math.abs(n.noise - 10) < 0.4, `noise ${n.noise}`);
  });

  test('an enlarged tiny image is measured on its original pixels', () => {
    const n = robustNormalise(workingImage(to16(noisePicture(40, 30, 3000, 40))));
    assert.ok(n.noise > 25 && n.noise < 55, `noise ${n.noise}`);
  });

  test('a constant image has the quantisation floor as noise and normalises to zeros', () => {
    const n = robustNormalise(workingImage(to8(noisePicture(100, 100, 25700, 0))));
    assert.ok(n.noise > 0 && n.noise < 0.3);
    assert.equal(n.level, 100);
    assert.ok(n.data.every((v) => v === 0));
  });
});
