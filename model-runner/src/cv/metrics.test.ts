import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { confusion, score, summarize } from './metrics.ts';

describe('cross-validation scores (abnormal = positive)', () => {
  test('confusion counts a hand-worked table: truth 1 1 1 0 0 0 0, predicted 1 0 1 0 1 0 0 → TP 2, FN 1, FP 1, TN 3', () => {
    assert.deepEqual(confusion([1, 1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 1, 0, 0]), { tp: 2, fp: 1, tn: 3, fn: 1 });
  });

  test('balanced accuracy is the mean of TPR and TNR: (2/3 + 3/4) / 2', () => {
    const s = score({ tp: 2, fp: 1, tn: 3, fn: 1 });
    assert.ok(Math.abs(s.balancedAccuracy! - (2 / 3 + 3 / 4) / 2) < 1e-15);
    assert.equal(s.note, undefined);
  });

  test("calling everything normal scores exactly 50 % (the paper's many 50.00 bundles)", () => {
    assert.equal(score({ tp: 0, fp: 0, tn: 40, fn: 9 }).balancedAccuracy, 0.5);
  });

  test('a bundle without abnormal images has no balanced accuracy, and says why', () => {
    const s = score({ tp: 0, fp: 3, tn: 50, fn: 0 });
    assert.equal(s.balancedAccuracy, null);
    assert.match(s.note!, /no abnormal images/);
    const t = score({ tp: 4, fp: 0, tn: 0, fn: 1 });
    assert.equal(t.balancedAccuracy, null);
    assert.match(t.note!, /no normal images/);
  });

  test('the overall score pools the counts; it is not the mean of per-bundle scores', () => {
    // Bundle A: TP 1, FN 0, TN 8, FP 2 → (1 + 0.8) / 2 = 0.9.
    // Bundle B: TP 1, FN 9, TN 10, FP 0 → (0.1 + 1) / 2 = 0.55.  Mean of the two: 0.725.
    // Bundle C: only normals, TN 5, FP 5 → undefined, but its counts still pool.
    // Pooled: TP 2, FN 9, TN 23, FP 7 → (2/11 + 23/30) / 2.
    const cv = summarize([
      { bundle: 'A', tp: 1, fp: 2, tn: 8, fn: 0 },
      { bundle: 'B', tp: 1, fp: 0, tn: 10, fn: 9 },
      { bundle: 'C', tp: 0, fp: 5, tn: 5, fn: 0 },
    ]);
    assert.deepEqual(
      cv.perBundle.map((b) => [b.bundle, b.balancedAccuracy]),
      [
        ['A', 0.9],
        ['B', 0.55],
        ['C', null],
      ],
    );
    assert.deepEqual(
      { ...cv.overall, balancedAccuracy: undefined },
      { tp: 2, fp: 7, tn: 23, fn: 9, balancedAccuracy: undefined },
    );
    assert.ok(Math.abs(cv.overall.balancedAccuracy! - (2 / 11 + 23 / 30) / 2) < 1e-15);
    assert.notEqual(cv.overall.balancedAccuracy, 0.725);
  });
});
