/**
 * A stand-in for Platina's priority formula (model-runner/src/priority, being written in parallel), used by the
 * replay until that module exists. It follows issue 7's four terms for the EXPERT queue:
 *
 * - expert split on pending images: an image that already holds votes is finished first, a split one (1–1)
 *   before a one-sided one (1–0): its earlier votes become a training label only when the rule resolves it;
 * - model uncertainty on unlabeled images: 1 − |2p − 1|;
 * - coverage: a bundle with a smaller share of resolved labels than the pool average gets a boost, so the
 *   model sees every coating (held-out bundles are other coatings);
 * - confident model-vs-consensus contradiction is a LEAD review term: it never asks experts for votes, so it
 *   is not in this ordering (the replay counts what that review catches separately, see review.ts).
 *
 * priority(pending with votes) = 2 + split share   (split share = 1 − |2·abnormal/votes − 1|)
 * priority(unlabeled)          = (1 − w) · uncertainty + w · starvation(bundle),  w = COVERAGE_WEIGHT
 * starvation(bundle)           = max(0, 1 − coverage(bundle) / mean coverage), coverage = resolved / pool images
 * Before the first model, uncertainty is 0 for every image, so the order is by starvation (bundles in turn).
 */
import type { ReplayView } from './replay.ts';
import { uncertainty } from './orders.ts';

export const COVERAGE_WEIGHT = 0.3;

export function fallbackPriorities(view: ReplayView): (image: number) => number {
  const poolByBundle = new Map<string, number>();
  const resolvedByBundle = new Map<string, number>();
  let resolved = 0;
  for (const i of view.pool) {
    const b = view.bundles[i];
    poolByBundle.set(b, (poolByBundle.get(b) ?? 0) + 1);
    if (view.states.get(i)!.outcome.status === 'resolved') {
      resolvedByBundle.set(b, (resolvedByBundle.get(b) ?? 0) + 1);
      resolved++;
    }
  }
  const meanCoverage = resolved / view.pool.length;
  const starvation = (b: string) => {
    const coverage = (resolvedByBundle.get(b) ?? 0) / poolByBundle.get(b)!;
    return meanCoverage === 0 ? 1 : Math.max(0, 1 - coverage / meanCoverage);
  };
  const p = view.pAbnormal;
  return (i) => {
    const votes = view.states.get(i)!.votes;
    if (votes.length > 0) {
      const abnormal = votes.filter((v) => v.verdict === 'abnormal').length;
      return 2 + (1 - Math.abs((2 * abnormal) / votes.length - 1));
    }
    const u = p ? uncertainty(p[i]) : 0;
    return (1 - COVERAGE_WEIGHT) * u + COVERAGE_WEIGHT * starvation(view.bundles[i]);
  };
}
