/**
 * THE consensus rule of Platina: one pure function from an image's current votes (and the lead's
 * resolution, if any) to its consensus. The API applies it in the same transaction as every vote or
 * resolution; the model runner applies it to pick its training labels. Nothing else may decide a label.
 *
 * The rule, worked through in docs/consensus.md:
 * 1. An active lead resolution decides, whatever the votes say (it stands over later votes).
 * 2. Fewer than `votesRequired` current votes → `pending`.
 * 3. `votesRequired` or more votes, all with the same verdict → `resolved`, method `unanimous`.
 * 4. Split votes (adaptive overlap): the image is decided as soon as one verdict holds more votes than
 *    the other could still reach with the votes left up to `votesMax`, i.e. `leader > trailer +
 *    max(0, votesMax − n)`. This is exactly "the verdict `votesMax` votes would reach is already
 *    certain", so asking for further votes could not change it. With `votesMax = votesRequired`
 *    (the default) this is the plain strict majority of the contract.
 * 5. Split votes at or beyond `votesMax` that are tied → `needs_lead` (the paper's "undecidable" class,
 *    section 4, until the lead decides). Otherwise (rule 4 not yet met) → `pending`, asking for more.
 *
 * An anomaly type is in a vote-based consensus when a strict majority of ALL current voters marked it
 * (voters of either verdict: a normal electrode may show minor anomalies, paper figure 2d).
 */

import { ANOMALY_CODES } from '../anomaly-types.ts';
import type { Verdict } from '../domain.ts';

export type { Verdict };

/** One expert's current vote (their latest); the caller guarantees one per voter. */
export interface RuleVote {
  readonly verdict: Verdict;
  readonly anomalies: readonly string[];
}

/** The active (latest, not deleted) lead resolution of an image. */
export interface RuleResolution {
  readonly verdict: Verdict;
  readonly anomalies: readonly string[];
}

export interface ConsensusSettings {
  /** Votes an image needs before the vote rule decides (≥ 1). Default 3. */
  readonly votesRequired: number;
  /** Most votes asked for when the first ones are split (≥ votesRequired). Default = votesRequired. */
  readonly votesMax: number;
}

export const DEFAULT_CONSENSUS_SETTINGS: ConsensusSettings = { votesRequired: 3, votesMax: 3 };

export interface VoteCounts {
  normal: number;
  abnormal: number;
}

export type ConsensusOutcome =
  | {
      status: 'pending';
      /** The fewest further votes that could decide the image (what the queue hands out). */
      votesNeeded: number;
      counts: VoteCounts;
    }
  | { status: 'needs_lead'; reason: 'tie'; counts: VoteCounts }
  | {
      status: 'resolved';
      verdict: Verdict;
      /** In the paper's order (section 2.2; unknown codes last, by code), so equal consensus compares equal. */
      anomalies: string[];
      method: 'unanimous' | 'majority' | 'lead';
      counts: VoteCounts;
    };

/**
 * Validates settings: integers, 1 ≤ votesRequired ≤ votesMax. Returns a message naming the field, or null.
 * The API's settings schema uses it so that the rule never sees settings it cannot apply.
 */
export function settingsProblem(settings: ConsensusSettings): string | null {
  const { votesRequired, votesMax } = settings;
  if (!Number.isInteger(votesRequired) || votesRequired < 1) return 'votesRequired must be an integer ≥ 1';
  if (!Number.isInteger(votesMax) || votesMax < votesRequired) {
    return 'votesMax must be an integer ≥ votesRequired';
  }
  return null;
}

export function countVotes(votes: readonly RuleVote[]): VoteCounts {
  const counts: VoteCounts = { normal: 0, abnormal: 0 };
  for (const vote of votes) counts[vote.verdict] += 1;
  return counts;
}

/** Sorts anomaly codes in the paper's order (section 2.2), unknown codes last by code, without duplicates. */
export function sortAnomalies(codes: Iterable<string>): string[] {
  const rank = (c: string) => {
    const i = (ANOMALY_CODES as readonly string[]).indexOf(c);
    return i < 0 ? ANOMALY_CODES.length : i;
  };
  return [...new Set(codes)].sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0));
}

/** Codes marked by a strict majority (> n/2) of the voters, in the paper's order; a code listed twice in one vote counts once. */
export function majorityAnomalies(votes: readonly RuleVote[]): string[] {
  const marks = new Map<string, number>();
  for (const vote of votes) {
    for (const code of new Set(vote.anomalies)) marks.set(code, (marks.get(code) ?? 0) + 1);
  }
  return sortAnomalies([...marks].filter(([, count]) => 2 * count > votes.length).map(([code]) => code));
}

/** Applies the rule (see the module comment) to the current votes of one image. */
export function decideConsensus(
  votes: readonly RuleVote[],
  resolution: RuleResolution | null,
  settings: ConsensusSettings = DEFAULT_CONSENSUS_SETTINGS,
): ConsensusOutcome {
  const problem = settingsProblem(settings);
  if (problem) throw new RangeError(problem);
  const counts = countVotes(votes);
  if (resolution) {
    return {
      status: 'resolved',
      verdict: resolution.verdict,
      anomalies: sortAnomalies(resolution.anomalies),
      method: 'lead',
      counts,
    };
  }
  const verdict = voteVerdict(counts, settings);
  if (verdict === 'pending')
    return { status: 'pending', votesNeeded: votesStillNeeded(votes, null, settings), counts };
  if (verdict === 'tie') return { status: 'needs_lead', reason: 'tie', counts };
  const unanimous = counts.normal === 0 || counts.abnormal === 0;
  return {
    status: 'resolved',
    verdict,
    anomalies: majorityAnomalies(votes),
    method: unanimous ? 'unanimous' : 'majority',
    counts,
  };
}

/** The verdict part of the rule, on counts alone (anomalies never change the status). */
function voteVerdict(counts: VoteCounts, settings: ConsensusSettings): Verdict | 'pending' | 'tie' {
  const n = counts.normal + counts.abnormal;
  if (n < settings.votesRequired) return 'pending';
  const leader: Verdict = counts.abnormal > counts.normal ? 'abnormal' : 'normal';
  const lead = Math.max(counts.normal, counts.abnormal);
  const trail = Math.min(counts.normal, counts.abnormal);
  if (trail === 0) return leader; // unanimous
  if (lead > trail + Math.max(0, settings.votesMax - n)) return leader;
  if (n >= settings.votesMax && lead === trail) return 'tie';
  return 'pending';
}

/**
 * How many more votes the image needs before the vote rule can decide it: 0 when it is decided
 * (resolved, or `needs_lead` — the lead decides, not more votes); otherwise the smallest k such that k
 * further votes, all for one verdict, would end `pending`. The queue leases at most this many at a time,
 * so no expert is asked for a vote that cannot matter (more leases open when those votes split again).
 */
export function votesStillNeeded(
  votes: readonly RuleVote[],
  resolution: RuleResolution | null,
  settings: ConsensusSettings = DEFAULT_CONSENSUS_SETTINGS,
): number {
  if (resolution) return 0;
  const counts = countVotes(votes);
  if (voteVerdict(counts, settings) !== 'pending') return 0;
  // Bounded search: after votesMax − n (or votesRequired − n) votes for the leader the rule always decides.
  for (let k = 1; ; k++) {
    for (const extra of ['normal', 'abnormal'] as const) {
      const next = { ...counts, [extra]: counts[extra] + k };
      if (voteVerdict(next, settings) !== 'pending') return k;
    }
  }
}
