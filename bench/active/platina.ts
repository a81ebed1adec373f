/**
 * "Platina's order" for the replay: the runner's own priority formula (model-runner/src/priority/priority.ts,
 * documented there), fed from the replay's state exactly as the runner and the API feed it from the database. The
 * expert queue hands out the image with the highest priority among those that still need a vote.
 *
 * Unusualness (issue 13) is kept as the runner keeps it: the normal model (model-runner/src/evidence/unusualness.ts)
 * is fit on every pool image's evidence before any label (runner/evidence-jobs.ts, on upload), and refit on the
 * consensus-normal images each time REFIT_EVERY more images are resolved once at least MIN_NORMALS are
 * consensus-normal (runner/scheduler.ts). The priority's term is the image's percentile within its bundle.
 *
 * Before the first model there are no scores. The API's queue (api/src/queue/queue.repository.ts) then hands out
 * started (pending) images first, then fresh ones by unusualness score, most unusual first; the replay does the
 * same: pending images keep the formula's priority at P(abnormal) = 0.5 (≥ 1), fresh ones rank by score. Without
 * evidence (no `evidence` given) the formula is the one for images without unusualness, and before the first
 * model the order is by coverage alone: bundles take turns.
 */
import type { ImageStatus } from '../../lib/db/schema.ts';
import { MIN_NORMALS, unusualness } from '../../model-runner/src/evidence/unusualness.ts';
import { computePriority, coverageFrom, WEIGHTS } from '../../model-runner/src/priority/priority.ts';
import type { Coverage } from '../../model-runner/src/priority/priority.ts';
import { REFIT_EVERY } from '../../model-runner/src/runner/scheduler.ts';
import { priorityOrdering } from './orders.ts';
import type { ImageState, Ordering, ReplayView } from './replay.ts';

const W = WEIGHTS;
export const PLATINA_SOURCE =
  `model-runner/src/priority/priority.ts: pending images first (${W.pendingBase} + ${W.split}·split + ` +
  `${W.pendingUncertainty}·uncertainty + ${W.pendingCoverage}·coverage + ${W.pendingUnusualness}·unusualness), then ` +
  `unlabeled ones by ${W.uncertainty}·uncertainty + ${W.coverage}·coverage + ${W.unusualness}·unusualness ` +
  '(coverage = 1 − resolved labels in the bundle / the most of any bundle; unusualness = the bundle percentile of ' +
  'model-runner/src/evidence/unusualness.ts, fit on every pool image before labels and refit on the ' +
  `consensus-normal ones every ${REFIT_EVERY} resolved images once ${MIN_NORMALS} are normal, as the runner does); ` +
  'before the first model, started images first, then fresh ones by unusualness score (the API queue)';

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

/** Unusualness of every image (index = image id; NaN outside the pool) from the current normal model. */
export interface ReplayUnusualness {
  score: Float64Array;
  bundlePercentile: Float64Array;
}

/**
 * The runner's unusualness over the replay: call it with each view; it refits when the runner would (see the top of
 * this file) and otherwise returns the last fit.
 */
export function unusualnessTracker(
  evidence: { vectors: Float32Array; dim: number },
  pool: readonly number[],
): (view: ReplayView) => ReplayUnusualness {
  const { dim } = evidence;
  const sub = new Float32Array(pool.length * dim);
  pool.forEach((i, k) => sub.set(evidence.vectors.subarray(i * dim, (i + 1) * dim), k * dim));
  let current: ReplayUnusualness | null = null;
  let resolvedAtFit = 0;
  const fit = (view: ReplayView, on: boolean[]): ReplayUnusualness => {
    const r = unusualness({ vectors: sub, dim, bundles: pool.map((i) => view.bundles[i]), fit: on });
    const n = view.bundles.length;
    const out = { score: new Float64Array(n).fill(NaN), bundlePercentile: new Float64Array(n).fill(NaN) };
    pool.forEach((i, k) => {
      out.score[i] = r.scores[k];
      out.bundlePercentile[i] = r.bundlePercentile[k];
    });
    return out;
  };
  return (view) => {
    let resolved = 0;
    const normal = pool.map((i) => {
      const o = view.states.get(i)!.outcome;
      if (o.status !== 'resolved') return false;
      resolved++;
      return o.verdict === 'normal';
    });
    if (!current) {
      current = fit(
        view,
        pool.map(() => true),
      );
      resolvedAtFit = resolved;
    } else if (normal.filter(Boolean).length >= MIN_NORMALS && resolved - resolvedAtFit >= REFIT_EVERY) {
      current = fit(view, normal);
      resolvedAtFit = resolved;
    }
    return current;
  };
}

/** Platina's priority of image `image` in the replay's state (also the review's score for resolved images). */
export function platinaPriority(
  view: ReplayView,
  coverage: Coverage,
  image: number,
  unusual?: ReplayUnusualness,
): number {
  const state = view.states.get(image)!;
  const o = state.outcome;
  const v = unusual?.bundlePercentile[image];
  return computePriority(
    {
      pAbnormal: view.pAbnormal ? view.pAbnormal[image] : 0.5,
      status: statusOf(state),
      verdict: o.status === 'resolved' ? o.verdict : null,
      normalVotes: o.counts.normal,
      abnormalVotes: o.counts.abnormal,
      bundle: view.bundles[image],
      unusualness: v === undefined || Number.isNaN(v) ? null : v,
    },
    coverage,
  ).priority;
}

/** `evidence`: every image's evidence vector ([images × dim]), for the unusualness term; without it, none. */
export function platinaOrdering(
  images: number,
  seed: number,
  evidence?: { vectors: Float32Array; dim: number },
): Ordering {
  let track: ((view: ReplayView) => ReplayUnusualness) | null = null;
  return priorityOrdering('platina', images, seed, (view) => {
    const coverage = replayCoverage(view);
    if (!evidence) return (i) => platinaPriority(view, coverage, i);
    track ??= unusualnessTracker(evidence, view.pool);
    const unusual = track(view);
    if (view.pAbnormal) return (i) => platinaPriority(view, coverage, i, unusual);
    // Before the first model: started images (priority ≥ 1) first, then fresh ones by score, mapped into [0, 1).
    return (i) =>
      statusOf(view.states.get(i)!) === 'unlabeled'
        ? unusual.score[i] / (1 + unusual.score[i])
        : platinaPriority(view, coverage, i, unusual);
  });
}
