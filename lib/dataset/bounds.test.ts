import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { farOutside, parsePinned, pinProblem, storedBounds } from './bounds.ts';

describe('method-2 bounds rules', () => {
  const bounds = { lo: 1700, hi: 28000 }; // width 26 300: a quarter is 6575

  test('an image is far outside when it reaches a quarter of the width beyond the bounds, or lies wholly outside', () => {
    assert.equal(farOutside({ p0_01: 1749, p99_99: 27960 }, bounds), false, 'inside');
    assert.equal(
      farOutside({ p0_01: 1700, p99_99: 34000 }, bounds),
      false,
      'beyond, but by less than a quarter',
    );
    assert.equal(farOutside({ p0_01: 1700, p99_99: 34700 }, bounds), true, 'beyond by more than a quarter');
    assert.equal(
      farOutside({ p0_01: 300, p99_99: 2800 }, bounds),
      false,
      'below by less than a quarter (1400 < 6575)',
    );
    assert.equal(
      farOutside({ p0_01: 5000, p99_99: 20000 }, { lo: 10000, hi: 28000 }),
      true,
      'below by more (5000 > 4500)',
    );
    assert.equal(farOutside({ p0_01: 50, p99_99: 400 }, bounds), true, 'wholly below');
    assert.equal(farOutside({ p0_01: 29000, p99_99: 29500 }, bounds), true, 'wholly above');
  });

  test('pins must be stretchable bounds of their bit depth', () => {
    assert.equal(pinProblem(16, 1700, 28000), null);
    assert.equal(pinProblem(16, 0, 65535), null);
    assert.equal(pinProblem(16, 0, 65536), 'must lie within 0–65535 for 16-bit images');
    assert.equal(pinProblem(8, 10, 300), 'must lie within 0–255 for 8-bit images');
    assert.equal(pinProblem(16, 5000, 5000), 'lo (5000) must be below hi (5000)');
  });

  test('stored pins are read per bit depth; anything malformed is ignored', () => {
    assert.deepEqual(parsePinned({ 16: { lo: 1700, hi: 28000 } }), new Map([[16, { lo: 1700, hi: 28000 }]]));
    assert.deepEqual(parsePinned({ 16: { lo: 9, hi: 3 }, 8: { lo: 'x', hi: 2 } }), new Map());
    assert.deepEqual(parsePinned(null), new Map());
  });

  test('a model version records the bounds in force, 16-bit first', () => {
    const inForce = (bitDepth: 8 | 16, lo: number, hi: number, pinned: boolean) => ({
      bitDepth,
      images: 1,
      computed: { lo, hi },
      pinned: pinned ? { lo, hi } : null,
      inForce: { lo, hi },
      fingerprint: '',
    });
    assert.deepEqual(storedBounds([inForce(8, 3, 250, false), inForce(16, 1700, 28000, true)]), [
      { bitDepth: 16, lo: 1700, hi: 28000, pinned: true },
      { bitDepth: 8, lo: 3, hi: 250, pinned: false },
    ]);
  });
});
