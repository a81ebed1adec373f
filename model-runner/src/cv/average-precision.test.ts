import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ANOMALY_CODES } from '../../../lib/anomaly-types.ts';
import { averagePrecision, MIN_POSITIVES, scoreAnomalyTypes } from './average-precision.ts';

const close = (actual: number | null, expected: number) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${actual} vs ${expected}`);

describe('average precision', () => {
  test("scikit-learn's documented example, by hand: y = [0, 0, 1, 1], scores [0.1, 0.4, 0.35, 0.8] → 0.8333", () => {
    // sklearn.metrics.average_precision_score docs. Ranked: 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg).
    //   ≥ 0.8:  P = 1/1, R = 1/2  → (1/2 − 0) · 1    = 0.5
    //   ≥ 0.4:  P = 1/2, R = 1/2  → 0
    //   ≥ 0.35: P = 2/3, R = 1    → (1 − 1/2) · 2/3 = 1/3
    //   ≥ 0.1:  P = 2/4, R = 1    → 0
    close(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.5 + 1 / 3);
  });

  test('a second hand-worked ranking: pos, neg, pos, neg, pos → 1/3 + 2/9 + 1/5', () => {
    // R steps by 1/3 at ranks 1, 3 and 5, where P is 1/1, 2/3 and 3/5.
    close(averagePrecision([1, 0, 1, 0, 1], [0.9, 0.8, 0.7, 0.6, 0.5]), 1 / 3 + 2 / 9 + 1 / 5);
  });

  test('perfect ranking → 1; every positive last → the precision at full recall', () => {
    close(averagePrecision([0, 1, 0, 1], [0.2, 0.9, 0.1, 0.8]), 1);
    close(averagePrecision([0, 0, 1], [0.9, 0.8, 0.1]), 1 / 3);
  });

  test('tied scores are one threshold: their order cannot change AP', () => {
    // Three images tied at 0.5 (two positives) enter together: P = 2/3 at R = 1.
    close(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.1]), 2 / 3);
    close(averagePrecision([0, 1, 1, 0], [0.5, 0.5, 0.5, 0.1]), 2 / 3);
    // A constant score gives the prevalence, what a ranking without information earns.
    close(averagePrecision([1, 0, 0, 0, 1], [0.3, 0.3, 0.3, 0.3, 0.3]), 2 / 5);
  });

  test('no positive → null (recall is 0/0); only positives → 1', () => {
    assert.equal(averagePrecision([0, 0, 0], [0.3, 0.2, 0.9]), null);
    assert.equal(averagePrecision([], []), null);
    close(averagePrecision([1, 1], [0.1, 0.7]), 1);
  });

  test('mismatched lengths and NaN scores are refused', () => {
    assert.throws(() => averagePrecision([1, 0], [0.5]), /2 truths but 1 scores/);
    assert.throws(() => averagePrecision([1, 0], [0.5, NaN]), /score 1 is not a number/);
  });
});

describe('pooled per-type scores', () => {
  const K = ANOMALY_CODES.length;
  /** Rows of 11 with the given values in the first two types' columns. */
  const rows = (pairs: [number, number][]) =>
    Float64Array.from({ length: pairs.length * K }, (_, j) =>
      j % K < 2 ? pairs[Math.floor(j / K)][j % K] : 0,
    );

  test('each type gets AP over the known images; types under the minimum of positives get null and a note', () => {
    // Type 0 ("scratches"): 6 positives ranked perfectly; type 1 ("lines"): 1 positive; image 7 is unknown and would
    // otherwise be a top-scored negative for type 0.
    const truth = rows([
      [1, 0],
      [1, 1],
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 0],
      [0, 0],
      [0, 0],
    ]);
    const scores = rows([
      [0.9, 0.2],
      [0.8, 0.9],
      [0.9, 0.1],
      [0.7, 0.1],
      [0.6, 0.1],
      [0.6, 0.1],
      [0.1, 0.5],
      [0.99, 0.99],
    ]);
    // The prior-only model: images 0–3 from a fold whose training share is 0.2, images 4–7 from one at 0.4.
    const priors = rows([0, 0, 0, 0, 1, 1, 1, 1].map((f) => [0.2 + 0.2 * f, 0.2 + 0.2 * f]));
    const known = [1, 1, 1, 1, 1, 1, 1, 0];
    const result = scoreAnomalyTypes(truth, scores, priors, known);
    assert.equal(result.minPositives, MIN_POSITIVES);
    assert.equal(result.perType.length, 11);
    // Prior only: images 4–6 (2 positives of 3) tie first, then 0–3 (4 of 4): 2/6 · 2/3 + 4/6 · 6/7.
    const { priorOnlyAveragePrecision, ...scratches } = result.perType[0];
    assert.deepEqual(scratches, { code: 'scratches', positives: 6, images: 7, averagePrecision: 1 });
    close(priorOnlyAveragePrecision, (2 / 6) * (2 / 3) + (4 / 6) * (6 / 7));
    assert.deepEqual(result.perType[1], {
      code: 'lines',
      positives: 1,
      images: 7,
      averagePrecision: null,
      priorOnlyAveragePrecision: null,
      note: '1 positive image (fewer than 5): too few for a number',
    });
    assert.equal(result.perType[10].code, 'ink_entry_exit');
    assert.equal(result.perType[10].note, '0 positive images (fewer than 5): too few for a number');
    // With the unknown image counted, type 0 would lose its perfect ranking.
    assert.ok(
      scoreAnomalyTypes(
        truth,
        scores,
        priors,
        known.map(() => 1),
      ).perType[0].averagePrecision! < 1,
    );
  });

  test('the minimum is a parameter; exactly the minimum gives a number', () => {
    const truth = rows([
      [1, 1],
      [0, 0],
    ]);
    const scores = rows([
      [0.2, 0.2],
      [0.9, 0.1],
    ]);
    const r = scoreAnomalyTypes(truth, scores, scores, [1, 1], 1);
    assert.equal(r.perType[0].averagePrecision, 0.5);
    assert.equal(r.perType[1].averagePrecision, 1);
    assert.throws(() => scoreAnomalyTypes(truth, scores, scores, [1]), /1 images need 11 truths and scores/);
  });
});
