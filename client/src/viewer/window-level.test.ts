import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { stretch, naive } from '../../../lib/imaging/conversions.ts';
import {
  autoWindow,
  displayLevel,
  dragWindow,
  naiveWindow,
  presetWindows,
  stepWindow,
} from './window-level.ts';

const bounds = (over: Partial<Parameters<typeof autoWindow>[0]> = {}) => ({
  bitDepth: 16 as const,
  p0_01: 1700,
  p99_99: 28000,
  histogram: null,
  pixels: 0,
  ...over,
});

describe('viewer window/level', () => {
  test('method 1 as a window equals the paper’s floor(x / 256) on every 16-bit value', () => {
    const w = naiveWindow(16);
    for (let x = 0; x < 65536; x += 7) assert.equal(displayLevel(x, w), naive(x, 16));
    assert.equal(displayLevel(65535, w), 255);
  });

  test('method 1 on 8-bit data is the identity', () => {
    const w = naiveWindow(8);
    for (let x = 0; x < 256; x++) assert.equal(displayLevel(x, w), x);
  });

  test('a window applies the paper’s clipped stretch, including the clipping at both bounds', () => {
    const w = { lo: 1700, hi: 2800 };
    for (const x of [0, 1699, 1700, 1701, 2250, 2799, 2800, 2801, 65535]) {
      assert.equal(displayLevel(x, w), stretch(x, 1700, 2800), `x = ${x}`);
    }
    assert.equal(displayLevel(1700, w), 0);
    assert.equal(displayLevel(2800, w), 255);
  });

  test('presets: method 2 uses the dataset bounds, method 3 the image’s own, method 4 the three as R, G, B', () => {
    const b = bounds({ p0_01: 1750, p99_99: 3100 });
    const ds = { globalMin: 1700, globalMax: 28000 };
    assert.deepEqual(presetWindows('m2', b, ds)[0], { lo: 1700, hi: 28000 });
    assert.deepEqual(presetWindows('m3', b, ds)[1], { lo: 1750, hi: 3100 });
    assert.deepEqual(presetWindows('m4', b, ds), [
      { lo: 0, hi: 65536 },
      { lo: 1700, hi: 28000 },
      { lo: 1750, hi: 3100 },
    ]);
  });

  test('the auto window takes the 0.5th–99.5th percentiles, ignoring rare bright specks', () => {
    const histogram = new Uint32Array(65536);
    for (let v = 2000; v < 3000; v++) histogram[v] = 10; // 10 000 coating pixels
    histogram[30000] = 20; // bright specks, 0.2 %
    const w = autoWindow(bounds({ histogram, pixels: 10020 }));
    assert.ok(w.lo >= 2000 && w.lo < 2010, `lo = ${w.lo}`);
    assert.ok(w.hi > 2980 && w.hi < 3000, `hi = ${w.hi}`);
  });

  test('dragging right widens the window, dragging down lowers the level, and the width stays at least 1', () => {
    const w = { lo: 1000, hi: 2000 };
    const wider = dragWindow(w, 50, 0, 65535);
    assert.ok(wider.hi - wider.lo > 1000);
    const lower = dragWindow(w, 0, 40, 65535);
    assert.ok(lower.lo < 1000 && lower.hi < 2000);
    const collapsed = dragWindow(w, -10000, 0, 65535);
    assert.ok(collapsed.hi - collapsed.lo >= 1);
  });

  test('arrow keys move the level by 5 % of the width and never collapse the window', () => {
    assert.deepEqual(stepWindow({ lo: 1000, hi: 2000 }, 'up'), { lo: 1050, hi: 2050 });
    assert.deepEqual(stepWindow({ lo: 1000, hi: 2000 }, 'right'), { lo: 950, hi: 2050 });
    assert.deepEqual(stepWindow({ lo: 10, hi: 11 }, 'left'), { lo: 10, hi: 11 });
  });
});
