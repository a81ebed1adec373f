import type { ImageStatus, Verdict } from '../../../lib/db/schema.ts';

/**
 * Labeling priority of one image: where an expert's (or the lead's) next minute helps the labels most
 * (issue 7). ONE formula, with every term in [0, 1]:
 *
 *   u  = 1 − |2p − 1|                 model uncertainty; p = P(abnormal); 1 at p = 0.5, 0 when sure
 *   k  = 1 − L_b / max(1, L_max)      coverage; L_b = resolved labels in the image's bundle, L_max = the
 *                                     most any bundle has, so bundles the model has seen little of rise
 *   s  = 2·min(n, a) / (n + a)        expert split of the current votes (n normal, a abnormal):
 *                                     1 for 1–1, 0.67 for 2–1, 0 while they agree
 *   c  = max(0, 2·q − 1)              confident contradiction on a resolved image, q = the model's
 *                                     probability of the class the consensus did NOT choose
 *   v  = bundle percentile of the     unusualness from zero labels (evidence/unusualness.ts, issue 13): 1 for
 *        image's unusualness          the most unusual image of its bundle; a reason the model may not see yet
 *
 *   unlabeled   priority = 0.65·u + 0.2·k + 0.15·v               ∈ [0, 1]
 *   pending     priority = 1 + 0.5·s + 0.2·u + 0.2·k + 0.1·v     ∈ [1, 2]
 *   (an image without an unusualness score keeps the formula from before issue 13: 0.75·u + 0.25·k and
 *   1 + 0.5·s + 0.25·u + 0.25·k)
 *   needs_lead  priority = 2                                      (a tie: only the lead can decide)
 *   resolved    priority = c                                      ∈ [0, 1]  (the lead's review order)
 *
 * Pending images sit above every fresh one: a started image's next vote brings it closer to a label, and a
 * split one (2–1) needs it most. The expert queue only hands out images that still need votes (unlabeled,
 * pending); the review queue reads the resolved images' `c` (likely label errors first).
 */
export interface PriorityInput {
  pAbnormal: number;
  status: ImageStatus;
  /** The consensus verdict when resolved. */
  verdict: Verdict | null;
  normalVotes: number;
  abnormalVotes: number;
  bundle: string;
  /** The image's unusualness as its bundle percentile in [0, 1]; null or absent when it has none yet. */
  unusualness?: number | null;
}

export interface Coverage {
  /** Resolved labels per bundle. */
  labeled: ReadonlyMap<string, number>;
  /** The most resolved labels of any bundle. */
  maxLabeled: number;
}

export interface Priority {
  priority: number;
  reason: string;
}

export const WEIGHTS = {
  uncertainty: 0.65,
  coverage: 0.2,
  unusualness: 0.15,
  pendingBase: 1,
  split: 0.5,
  pendingUncertainty: 0.2,
  pendingCoverage: 0.2,
  pendingUnusualness: 0.1,
  needsLead: 2,
} as const;

/**
 * Without an unusualness score (images the runner has not scored, versions before issue 13) the formula is the one
 * from before it: `without` gives those weights of u and k.
 */
function weightsFor(
  withV: { wu: number; wk: number; wv: number },
  without: { wu: number; wk: number },
  v: number | null | undefined,
) {
  return v !== null && v !== undefined ? { ...withV, v } : { ...without, wv: 0, v: 0 };
}

export function uncertainty(p: number): number {
  return 1 - Math.abs(2 * p - 1);
}

export function coverageOf(bundle: string, coverage: Coverage): number {
  return 1 - (coverage.labeled.get(bundle) ?? 0) / Math.max(1, coverage.maxLabeled);
}

export function coverageFrom(labeledPerBundle: Iterable<[string, number]>): Coverage {
  const labeled = new Map(labeledPerBundle);
  return { labeled, maxLabeled: Math.max(0, ...labeled.values()) };
}

const fmt = (p: number) => p.toFixed(2);

function certainty(p: number): string {
  const u = uncertainty(p);
  return u > 0.6 ? 'model unsure' : u > 0.2 ? 'model leaning' : 'model confident';
}

/** The priority and a reason a lead can read ("experts split 2–1; model unsure, P(abnormal) 0.47"). */
export function computePriority(x: PriorityInput, coverage: Coverage): Priority {
  const p = x.pAbnormal;
  const u = uncertainty(p);
  const k = coverageOf(x.bundle, coverage);
  const labeledHere = coverage.labeled.get(x.bundle) ?? 0;
  const coverageNote =
    k >= 0.5 ? `; bundle ${x.bundle} has few labels (${labeledHere} of up to ${coverage.maxLabeled})` : '';
  const unusualNote =
    x.unusualness !== null && x.unusualness !== undefined && x.unusualness >= 0.9
      ? `; looks unusual (top ${Math.max(1, Math.round(100 * (1 - x.unusualness)))} % of ${x.bundle})`
      : '';
  switch (x.status) {
    case 'unlabeled': {
      const w = weightsFor(
        { wu: WEIGHTS.uncertainty, wk: WEIGHTS.coverage, wv: WEIGHTS.unusualness },
        { wu: 0.75, wk: 0.25 },
        x.unusualness,
      );
      return {
        priority: w.wu * u + w.wk * k + w.wv * w.v,
        reason: `${certainty(p)}, P(abnormal) ${fmt(p)}${coverageNote}${unusualNote}`,
      };
    }
    case 'pending': {
      const n = x.normalVotes;
      const a = x.abnormalVotes;
      const s = n + a === 0 ? 0 : (2 * Math.min(n, a)) / (n + a);
      const votes =
        s > 0
          ? `experts split ${Math.max(n, a)}–${Math.min(n, a)}`
          : `${n + a} vote${n + a === 1 ? '' : 's'} so far, agreeing`;
      const w = weightsFor(
        { wu: WEIGHTS.pendingUncertainty, wk: WEIGHTS.pendingCoverage, wv: WEIGHTS.pendingUnusualness },
        { wu: 0.25, wk: 0.25 },
        x.unusualness,
      );
      return {
        priority: WEIGHTS.pendingBase + WEIGHTS.split * s + w.wu * u + w.wk * k + w.wv * w.v,
        reason: `${votes}: needs its next vote; ${certainty(p)}, P(abnormal) ${fmt(p)}${coverageNote}${unusualNote}`,
      };
    }
    case 'needs_lead':
      return {
        priority: WEIGHTS.needsLead,
        reason: `tie ${x.normalVotes}–${x.abnormalVotes}: waiting for the lead; P(abnormal) ${fmt(p)}`,
      };
    case 'resolved': {
      const q = x.verdict === 'abnormal' ? 1 - p : p;
      const c = Math.max(0, 2 * q - 1);
      return {
        priority: c,
        reason:
          c > 0
            ? `model contradicts the consensus (${x.verdict}) with P(abnormal) ${fmt(p)}: possible label error`
            : `model agrees with the consensus (${x.verdict}), P(abnormal) ${fmt(p)}`,
      };
    }
  }
}
