/**
 * How many simulated label errors (consensus ≠ truth) the lead's model-vs-consensus review finds.
 *
 * The review queue ranks resolved images by how confidently the model contradicts their consensus (the
 * caller passes the score: Platina's `c = max(0, 2q − 1)`, q = P(the verdict the consensus did not choose),
 * from model-runner/src/priority). The lead looks at the top K. We count the label errors
 * among them and compare with two references measured on the same labels: a random top K (expected
 * count K · errors / resolved) and the expert-split ranking (images decided by a split vote first, then
 * unanimous ones; ties in random order) — what a lead could do with no model.
 */
import type { ImageState } from './replay.ts';

export interface ReviewRow {
  k: number;
  /** Label errors among the top K of the model-vs-consensus ranking. */
  caught: number;
  /** Among the top K of the expert-split ranking. */
  caughtBySplit: number;
  /** Expected among K random resolved images. */
  expectedRandom: number;
}

export interface ReviewReport {
  resolved: number;
  labelErrors: number;
  rows: ReviewRow[];
}

/**
 * @param consensus 1 = abnormal, 0 = normal, −1 = not resolved (per image)
 * @param contradiction the review score of a resolved image (higher = looked at sooner)
 * @param states vote states, for the split ranking
 * @param rank seeded random rank per image, for ties
 */
export function reviewCatches(
  consensus: Int8Array,
  truth: ArrayLike<number>,
  contradiction: (image: number) => number,
  states: ReadonlyMap<number, ImageState>,
  rank: Int32Array,
  ks: readonly number[],
): ReviewReport {
  const resolved = [...states.keys()].filter((i) => consensus[i] >= 0);
  const isError = (i: number) => consensus[i] !== truth[i];
  const labelErrors = resolved.filter(isError).length;
  const split = (i: number) => {
    const votes = states.get(i)!.votes;
    const abnormal = votes.filter((v) => v.verdict === 'abnormal').length;
    // Closest to an even split first: 1 − |share − ½|·2 (a 2–1 image scores 2/3, a 3–0 image 0).
    return votes.length === 0 ? 0 : 1 - Math.abs((2 * abnormal) / votes.length - 1);
  };
  const byScore = (score: (i: number) => number) =>
    [...resolved].sort((a, b) => score(b) - score(a) || rank[a] - rank[b]);
  const model = byScore(contradiction);
  const splitOrder = byScore(split);
  const count = (order: number[], k: number) => order.slice(0, k).filter(isError).length;
  return {
    resolved: resolved.length,
    labelErrors,
    rows: ks.map((k) => ({
      k,
      caught: count(model, k),
      caughtBySplit: count(splitOrder, k),
      expectedRandom:
        resolved.length === 0 ? 0 : (Math.min(k, resolved.length) * labelErrors) / resolved.length,
    })),
  };
}
