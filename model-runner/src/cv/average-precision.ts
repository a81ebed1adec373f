import { ANOMALY_CODES } from '../../../lib/anomaly-types.ts';
import type { AnomalyCrossValidation, AnomalyTypeScore } from '../../../lib/api-types/models.ts';

export type { AnomalyCrossValidation, AnomalyTypeScore };

/**
 * Per-type scores of the anomaly-type head (issue 7), reported beside the paper's binary Table 1.
 *
 * Average precision (AP) is the area under the precision–recall curve as a step sum over the distinct score
 * thresholds, highest first: AP = Σ_n (R_n − R_{n−1}) · P_n, where P_n and R_n are precision and recall when every
 * image scoring at least the n-th threshold is called positive. Tied scores form one threshold (they enter
 * together), so the order of tied images cannot change AP. It is scikit-learn's `average_precision_score`
 * (non-interpolated), whose documentation works the example y = [0, 0, 1, 1], scores [0.1, 0.4, 0.35, 0.8] to
 * 0.83 (average-precision.test.ts redoes it by hand). A ranking that is no better than chance scores the positive
 * share (the prevalence) on average, not 0.5.
 *
 * Over leave-one-bundle-out folds the held-out scores are POOLED (every image scored once, by the fold that held it
 * out) and AP is computed once over the pool, as the binary overall score pools its counts (metrics.ts).
 *
 * Pooling has a catch that the positive share does not show: each fold's scores carry that fold's training share of
 * the type, and when bundles differ in their mix of types, a fold's training share is HIGH exactly when its
 * held-out bundle has FEW of the type. A model that knows nothing but the training share therefore ranks the pool
 * below chance (on the synthetic data: 4.7 % mean AP at a 6.4 % mean share). So each type also reports that
 * prior-only model's pooled AP, computed from the same folds: the head has learnt from the images only where it
 * beats that number.
 */

/** Below this many positive images in the pool a type reports no AP: one image more or less would swing it. */
export const MIN_POSITIVES = 5;

/**
 * Average precision of `scores` against 0/1 `truth` (see the module comment); null without any positive (recall is
 * then 0/0). Throws on mismatched lengths or a score that is not a number.
 */
export function averagePrecision(truth: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  if (truth.length !== scores.length) throw new Error(`${truth.length} truths but ${scores.length} scores`);
  const order = Array.from({ length: scores.length }, (_, i) => i);
  for (const i of order) if (Number.isNaN(scores[i])) throw new Error(`score ${i} is not a number`);
  let positives = 0;
  for (const i of order) if (truth[i]) positives++;
  if (positives === 0) return null;
  order.sort((a, b) => scores[b] - scores[a]);
  let ap = 0;
  let truePositives = 0;
  let called = 0;
  let recalled = 0;
  for (let k = 0; k < order.length;) {
    // Every image tied at this score enters at once: one threshold, one point of the curve.
    const threshold = scores[order[k]];
    for (; k < order.length && scores[order[k]] === threshold; k++) {
      called++;
      if (truth[order[k]]) truePositives++;
    }
    const recall = truePositives / positives;
    ap += (recall - recalled) * (truePositives / called);
    recalled = recall;
  }
  return ap;
}

/**
 * Pooled per-type AP (`crossValidation.anomalies`): `truth`, `scores` and `priorScores` (each held-out image's fold
 * training share, or any increasing function of it) are [images × 11] rows (ANOMALY_CODES order) of the pooled
 * held-out images; images with `known[i] = 0` (types unknown) are left out.
 */
export function scoreAnomalyTypes(
  truth: ArrayLike<number>,
  scores: ArrayLike<number>,
  priorScores: ArrayLike<number>,
  known: ArrayLike<number>,
  minPositives = MIN_POSITIVES,
): AnomalyCrossValidation {
  const k = ANOMALY_CODES.length;
  if (
    truth.length !== known.length * k ||
    scores.length !== truth.length ||
    priorScores.length !== truth.length
  )
    throw new Error(`${known.length} images need ${known.length * k} truths and scores`);
  const rows: number[] = [];
  for (let i = 0; i < known.length; i++) if (known[i]) rows.push(i);
  const perType = ANOMALY_CODES.map((code, t): AnomalyTypeScore => {
    const y = rows.map((i) => truth[i * k + t]);
    const positives = y.reduce((a, b) => a + (b ? 1 : 0), 0);
    const base = { code, positives, images: rows.length };
    if (positives < minPositives)
      return {
        ...base,
        averagePrecision: null,
        priorOnlyAveragePrecision: null,
        note: `${positives} positive image${positives === 1 ? '' : 's'} (fewer than ${minPositives}): too few for a number`,
      };
    const column = (values: ArrayLike<number>) => rows.map((i) => values[i * k + t]);
    return {
      ...base,
      averagePrecision: averagePrecision(y, column(scores)),
      priorOnlyAveragePrecision: averagePrecision(y, column(priorScores)),
    };
  });
  return { minPositives, perType };
}
