/**
 * "Platina's order" for the replay: the runner's own priority formula (model-runner/src/priority/priority.ts,
 * documented there), fed from the replay's state exactly as the runner feeds it from the database. The expert
 * queue hands out the image with the highest priority among those that still need a vote.
 *
 * Before the first model there are no scores; the replay then passes P(abnormal) = 0.5 (uncertainty 1 for
 * every image), so the order is by coverage alone: bundles take turns.
 */
import type { ImageStatus } from '../../lib/db/schema.ts';
import { computePriority, coverageFrom } from '../../model-runner/src/priority/priority.ts';
import type { Coverage } from '../../model-runner/src/priority/priority.ts';
import { priorityOrdering } from './orders.ts';
import type { ImageState, Ordering, ReplayView } from './replay.ts';

export const PLATINA_SOURCE =
  'model-runner/src/priority/priority.ts: pending images first (1 + 0.5·split + 0.25·uncertainty + 0.25·coverage), ' +
  'then unlabeled ones by 0.75·uncertainty + 0.25·coverage (coverage = 1 − resolved labels in the bundle / the most of any bundle)';

export function statusOf(state: ImageState): ImageStatus {
  const o = state.outcome;
  if (o.status === 'pending') return state.votes.length === 0 ? 'unlabeled' : 'pending';
  return o.status;
}

/** Resolved labels per bundle, as the runner counts them. */
export function replayCoverage(view: ReplayView): Coverage {
  const labeled = new Map<string, number>();
  for (const i of view.pool) labeled.set(view.bundles[i], labeled.get(view.bundles[i]) ?? 0);
  for (const [i, state] of view.states) {
    if (state.outcome.status === 'resolved') labeled.set(view.bundles[i], labeled.get(view.bundles[i])! + 1);
  }
  return coverageFrom(labeled);
}

/** Platina's priority of image `image` in the replay's state (also the review's score for resolved images). */
export function platinaPriority(view: ReplayView, coverage: Coverage, image: number): number {
  const state = view.states.get(image)!;
  const o = state.outcome;
  return computePriority(
    {
      pAbnormal: view.pAbnormal ? view.pAbnormal[image] : 0.5,
      status: statusOf(state),
      verdict: o.status === 'resolved' ? o.verdict : null,
      normalVotes: o.counts.normal,
      abnormalVotes: o.counts.abnormal,
      bundle: view.bundles[image],
    },
    coverage,
  ).priority;
}

export function platinaOrdering(images: number, seed: number): Ordering {
  return priorityOrdering('platina', images, seed, (view) => {
    const coverage = replayCoverage(view);
    return (i) => platinaPriority(view, coverage, i);
  });
}
