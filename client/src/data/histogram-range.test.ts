import { test } from 'node:test';
import assert from 'node:assert/strict';
import { robustRange } from './histogram-range.ts';

// 16-bit layout: 1024 bins of 64.
const edges = Array.from({ length: 1025 }, (_, k) => k * 64);

test('the axis spans where the pixels are, not the whole 16-bit range', () => {
  const counts = new Array(1024).fill(0);
  for (let k = 27; k < 47; k++) counts[k] = 1000; // 1728–3008, the coating
  assert.deepEqual(robustRange(edges, counts), [1728 - 64, 3008 + 64]);
});

test('a few stray pixels at the ends do not stretch it', () => {
  const counts = new Array(1024).fill(0);
  for (let k = 27; k < 47; k++) counts[k] = 1000;
  counts[0] = 3; // dead pixels
  counts[1023] = 3; // saturated specks
  assert.deepEqual(robustRange(edges, counts), [1728 - 64, 3008 + 64]);
});

test('an empty histogram has no range', () => {
  assert.equal(robustRange(edges, new Array(1024).fill(0)), null);
});
