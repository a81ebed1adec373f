/**
 * Scores of leave-one-bundle-out cross-validation (paper section 3.2). Abnormal is the positive class.
 * Balanced accuracy = (TPR + TNR) / 2 = (TP / (TP + FN) + TN / (TN + FP)) / 2, reported as a fraction 0..1
 * (tables print it as %). The overall score is computed from the counts POOLED over all test bundles — it is not
 * the mean of the per-bundle scores (paper section 3; docs/domain.md, "Scores").
 */

// The scores are part of the API's payload (`crossValidation` of `GET /api/models`), so their types live with
// the other payload types in lib/api-types.
import type { BundleScore, Confusion, CrossValidation, Score } from '../../../lib/api-types/models.ts';

export type { BundleScore, Confusion, CrossValidation, Score };

/** Counts for 0/1 truths and predictions (1 = abnormal). */
export function confusion(truth: ArrayLike<number>, predicted: ArrayLike<number>): Confusion {
  if (truth.length !== predicted.length)
    throw new Error(`${truth.length} truths but ${predicted.length} predictions`);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < truth.length; i++) {
    if (truth[i]) {
      if (predicted[i]) c.tp++;
      else c.fn++;
    } else if (predicted[i]) c.fp++;
    else c.tn++;
  }
  return c;
}

export function score(c: Confusion): Score {
  const positives = c.tp + c.fn;
  const negatives = c.tn + c.fp;
  if (positives === 0 && negatives === 0) return { ...c, balancedAccuracy: null, note: 'no test images' };
  if (positives === 0)
    return { ...c, balancedAccuracy: null, note: 'no abnormal images: the true-positive rate is undefined' };
  if (negatives === 0)
    return { ...c, balancedAccuracy: null, note: 'no normal images: the true-negative rate is undefined' };
  return { ...c, balancedAccuracy: (c.tp / positives + c.tn / negatives) / 2 };
}

export function pool(counts: readonly Confusion[]): Confusion {
  return counts.reduce((a, c) => ({ tp: a.tp + c.tp, fp: a.fp + c.fp, tn: a.tn + c.tn, fn: a.fn + c.fn }), {
    tp: 0,
    fp: 0,
    tn: 0,
    fn: 0,
  });
}

/** Per-bundle scores and the overall score from pooled counts. */
export function summarize(folds: readonly ({ bundle: string } & Confusion)[]): CrossValidation {
  return {
    perBundle: folds.map(({ bundle, tp, fp, tn, fn }) => ({ bundle, ...score({ tp, fp, tn, fn }) })),
    overall: score(pool(folds)),
  };
}
