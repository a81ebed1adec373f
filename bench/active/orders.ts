/**
 * The orderings the replay compares. Each picks, before every vote, the pool image that gets it.
 * Ties are broken by one seeded random permutation, so that two orderings with the same seed differ
 * only in what they rank by.
 */
import { Rng } from '../../lib/synth/random.ts';
import type { Ordering, ReplayView } from './replay.ts';

/** A seeded rank of every image (lower = earlier) for tie-breaking and for the random order. */
export function randomRanks(images: number, seed: number): Int32Array {
  const order = Rng.at(seed, 'active-replay', 'random-order').shuffle(
    Array.from({ length: images }, (_, i) => i),
  );
  const rank = new Int32Array(images);
  order.forEach((image, r) => (rank[image] = r));
  return rank;
}

/** Picks the candidate with the highest score; ties go to the lower random rank. */
export function argmaxBy(
  candidates: readonly number[],
  scoreOf: (image: number) => number,
  rank: Int32Array,
): number {
  let best = candidates[0];
  let bestScore = scoreOf(best);
  for (let k = 1; k < candidates.length; k++) {
    const i = candidates[k];
    const s = scoreOf(i);
    if (s > bestScore || (s === bestScore && rank[i] < rank[best])) {
      best = i;
      bestScore = s;
    }
  }
  return best;
}

/**
 * Random order: images in a seeded random order, each collecting its votes until the rule resolves it
 * (its rank stays the lowest among the candidates until then). What a queue without a model does.
 */
export function randomOrdering(images: number, seed: number): Ordering {
  const rank = randomRanks(images, seed);
  return {
    name: 'random',
    next: (_view, candidates) => argmaxBy(candidates, () => 0, rank),
  };
}

/** 1 at P(abnormal) = 0.5, 0 at 0 or 1. */
export function uncertainty(p: number): number {
  return 1 - Math.abs(2 * p - 1);
}

/**
 * Uncertainty-only (classic uncertainty sampling): the image the latest model is least sure about,
 * whatever its votes so far and its bundle. Random until the first model exists.
 */
export function uncertaintyOrdering(images: number, seed: number): Ordering {
  const rank = randomRanks(images, seed);
  return {
    name: 'uncertainty',
    next: (view: ReplayView, candidates) => {
      const p = view.pAbnormal;
      return argmaxBy(candidates, p ? (i) => uncertainty(p[i]) : () => 0, rank);
    },
  };
}

/**
 * An ordering from a priority score (higher = sooner) computed over the replay's view, e.g. Platina's
 * formula. The score function sees the whole view so it can use votes, model scores and coverage.
 */
export function priorityOrdering(
  name: string,
  images: number,
  seed: number,
  priorities: (view: ReplayView, candidates: readonly number[]) => (image: number) => number,
): Ordering {
  const rank = randomRanks(images, seed);
  return {
    name,
    next: (view, candidates) => argmaxBy(candidates, priorities(view, candidates), rank),
  };
}
