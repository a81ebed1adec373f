/**
 * Dawid & Skene (1979), "Maximum likelihood estimation of observer error-rates using the EM algorithm",
 * for Platina's binary verdict (abnormal = positive class). Each expert j has a 2×2 confusion matrix,
 * summarised by sensitivity s_j = P(says abnormal | truly abnormal) and specificity t_j =
 * P(says normal | truly normal); the class prior π = P(abnormal). EM alternates:
 *   E-step: for every image, P(abnormal | its votes) ∝ π Π_j s_j^[a] (1 − s_j)^[n]  versus
 *           (1 − π) Π_j (1 − t_j)^[a] t_j^[n]  (computed in log space),
 *   M-step: s_j, t_j, π re-estimated from those posteriors, each with a symmetric Dirichlet (Beta)
 *           pseudo-count `SMOOTHING` per cell, so an expert with few votes or a perfect record never gets
 *           a probability of exactly 0 or 1 (which would let one vote override all others).
 * Initialisation: the posterior of each image is its share of abnormal votes (soft majority vote).
 * Stops when no posterior moves by more than `tolerance` (default 1e-6) or after `maxIterations` (default
 * 200) iterations. Deterministic: no randomness, and the result does not depend on the order of votes
 * (sums run over maps keyed by id; floating-point sums of the same terms in a different order may differ
 * in the last bits only).
 */

export interface DsVote {
  imageId: string;
  expertId: string;
  /** true = abnormal */
  abnormal: boolean;
}

export interface DsExpert {
  expertId: string;
  votes: number;
  sensitivity: number;
  specificity: number;
  /** Expected accuracy under the estimated prior: π s + (1 − π) t. */
  accuracy: number;
}

export interface DsResult {
  /** Posterior P(abnormal) per image id. */
  posterior: Map<string, number>;
  experts: DsExpert[];
  prior: number;
  iterations: number;
  converged: boolean;
}

export interface DsOptions {
  tolerance?: number;
  maxIterations?: number;
}

/** Pseudo-count added to each cell of every confusion matrix and of the prior (Laplace smoothing). */
export const SMOOTHING = 1;

export function dawidSkene(votes: readonly DsVote[], options: DsOptions = {}): DsResult {
  const tolerance = options.tolerance ?? 1e-6;
  const maxIterations = options.maxIterations ?? 200;

  // Index the votes: one entry per image with its (expert index, abnormal) pairs.
  const expertIds = [...new Set(votes.map((v) => v.expertId))].sort();
  const expertIndex = new Map(expertIds.map((id, i) => [id, i]));
  const imageVotes = new Map<string, { expert: number; abnormal: boolean }[]>();
  for (const v of votes) {
    const list = imageVotes.get(v.imageId) ?? [];
    list.push({ expert: expertIndex.get(v.expertId)!, abnormal: v.abnormal });
    imageVotes.set(v.imageId, list);
  }
  const images = [...imageVotes.keys()].sort();
  const T = images.map((id) => {
    const list = imageVotes.get(id)!;
    return list.filter((v) => v.abnormal).length / list.length;
  });

  const sens = new Array<number>(expertIds.length).fill(0.5);
  const spec = new Array<number>(expertIds.length).fill(0.5);
  let prior = 0.5;
  let iterations = 0;
  let converged = false;

  while (iterations < maxIterations) {
    iterations += 1;
    // M-step.
    const tp = new Array<number>(expertIds.length).fill(SMOOTHING); // says abnormal, weight of truly abnormal
    const pos = new Array<number>(expertIds.length).fill(2 * SMOOTHING); // weight of truly abnormal
    const tn = new Array<number>(expertIds.length).fill(SMOOTHING);
    const neg = new Array<number>(expertIds.length).fill(2 * SMOOTHING);
    let priorSum = SMOOTHING;
    images.forEach((id, i) => {
      priorSum += T[i];
      for (const v of imageVotes.get(id)!) {
        pos[v.expert] += T[i];
        neg[v.expert] += 1 - T[i];
        if (v.abnormal) tp[v.expert] += T[i];
        else tn[v.expert] += 1 - T[i];
      }
    });
    prior = priorSum / (images.length + 2 * SMOOTHING);
    for (let j = 0; j < expertIds.length; j++) {
      sens[j] = tp[j] / pos[j];
      spec[j] = tn[j] / neg[j];
    }
    // E-step.
    let maxChange = 0;
    images.forEach((id, i) => {
      let logA = Math.log(prior);
      let logN = Math.log(1 - prior);
      for (const v of imageVotes.get(id)!) {
        logA += Math.log(v.abnormal ? sens[v.expert] : 1 - sens[v.expert]);
        logN += Math.log(v.abnormal ? 1 - spec[v.expert] : spec[v.expert]);
      }
      const next = 1 / (1 + Math.exp(logN - logA));
      maxChange = Math.max(maxChange, Math.abs(next - T[i]));
      T[i] = next;
    });
    if (maxChange < tolerance) {
      converged = true;
      break;
    }
  }

  const voteCounts = new Array<number>(expertIds.length).fill(0);
  for (const v of votes) voteCounts[expertIndex.get(v.expertId)!] += 1;
  return {
    posterior: new Map(images.map((id, i) => [id, T[i]])),
    experts: expertIds.map((expertId, j) => ({
      expertId,
      votes: voteCounts[j],
      sensitivity: sens[j],
      specificity: spec[j],
      accuracy: prior * sens[j] + (1 - prior) * spec[j],
    })),
    prior,
    iterations,
    converged,
  };
}
