import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HEAT_CEIL, HEAT_FLOOR, heatColour, heatmapRgba } from './heatmap.ts';

describe('heatmap colours', () => {
  test('ordinary noise (up to the floor) is fully transparent', () => {
    for (const v of [0, 1, 2.4, HEAT_FLOOR]) assert.equal(heatColour(v)[3], 0, `value ${v}`);
  });

  test('opacity and lightness rise strictly from the floor to the ceiling, then stay', () => {
    const lightness = ([r, g, b]: number[]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let prev = heatColour(HEAT_FLOOR + 0.05);
    for (let v = HEAT_FLOOR + 0.3; v <= HEAT_CEIL; v += 0.25) {
      const c = heatColour(v);
      assert.ok(c[3] > prev[3], `opacity at ${v}`);
      assert.ok(lightness(c) > lightness(prev), `lightness at ${v}`);
      prev = c;
    }
    assert.deepEqual(heatColour(HEAT_CEIL), [252, 255, 164, 255]);
    assert.deepEqual(heatColour(40), heatColour(HEAT_CEIL));
  });

  test('cells become RGBA pixels in row-major order', () => {
    const px = heatmapRgba({ width: 2, height: 1, values: [0, HEAT_CEIL] });
    assert.deepEqual([...px], [0, 0, 0, 0, 252, 255, 164, 255]);
  });
});
