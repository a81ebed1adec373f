/**
 * Replay of a labeling campaign with simulated experts (issue 7, "Proof that it saves labels").
 *
 * The unit of cost is one expert vote ("a label"). An image of the labeling pool collects votes until
 * THE consensus rule (lib/consensus/rule.ts) resolves it, so an image the experts split on costs more
 * labels than one they agree on. After every `retrainEvery` labels the model is retrained on the
 * consensus verdicts of the resolved images and scored on every image; its balanced accuracy on the
 * held-out images (never labeled) against the TRUE verdicts is one point of the curve.
 *
 * What differs between two replays is only the ordering: which image gets the next vote. The votes
 * themselves are drawn in advance per image (`VoteSource`: the k-th vote image i receives is fixed),
 * so once the pool is exhausted every ordering has the same labels and hence the same final model —
 * the accuracy "with all labels" is one number, and the orders differ only in how fast they get there.
 */
import { decideConsensus } from '../../lib/consensus/rule.ts';
import type { ConsensusOutcome, ConsensusSettings, Verdict } from '../../lib/consensus/rule.ts';
import { confusion, score } from '../../model-runner/src/cv/metrics.ts';
import type { Confusion } from '../../model-runner/src/cv/metrics.ts';

/** Decision rule of the runner: abnormal when P(abnormal) > 0.5 (argmax of the 2-way softmax). */
export const THRESHOLD = 0.5;

export interface ReplayVote {
  expert: string;
  verdict: Verdict;
}

/** The simulated panel, drawn in advance so that every ordering sees the same answers. */
export interface VoteSource {
  /** The k-th vote (k = 0, 1, …) image `image` receives, each from a different expert. */
  vote(image: number, k: number): ReplayVote;
  /** The lead's decision on an image the rule sends to her (`needs_lead`); it costs one label. */
  lead(image: number): Verdict;
}

export interface ImageState {
  votes: ReplayVote[];
  /** The lead's decision, once asked (only for `needs_lead` images). */
  lead: Verdict | null;
  outcome: ConsensusOutcome;
}

/** What an ordering may look at: never the truth. */
export interface ReplayView {
  /** Bundle of every image (pool and held-out). */
  readonly bundles: readonly string[];
  /** Indices of the images that may be labeled. */
  readonly pool: readonly number[];
  /** Vote state of every pool image (index = image id; held-out images have none). */
  readonly states: ReadonlyMap<number, ImageState>;
  /** P(abnormal) of every image from the latest model; null before the first model. */
  readonly pAbnormal: Float32Array | null;
  /** Trainings done so far (0 = no model yet). */
  readonly modelVersion: number;
  readonly labelsSpent: number;
}

export interface Ordering {
  readonly name: string;
  /**
   * The image that gets the next vote, one of `candidates` (the pool images that still need a vote:
   * unlabeled or pending). Called once per vote, so an ordering may react to every vote.
   */
  next(view: ReplayView, candidates: readonly number[]): number;
}

/** Trains on `train` (1 = abnormal in `labels`) and returns P(abnormal) of every image. */
export type Trainer = (train: readonly number[], labels: Uint8Array) => Promise<Float32Array>;

export interface ReplayOptions {
  /** Bundle of every image. */
  bundles: readonly string[];
  /** True verdict of every image (1 = abnormal); only the evaluation reads it. */
  truth: ArrayLike<number>;
  pool: readonly number[];
  heldOut: readonly number[];
  votes: VoteSource;
  consensus: ConsensusSettings;
  ordering: Ordering;
  trainer: Trainer;
  /** Retrain after this many labels (votes). */
  retrainEvery: number;
  /** Stop after this many labels (default: when every pool image is resolved). */
  maxLabels?: number;
  onPoint?: (point: CurvePoint) => void;
}

export interface CurvePoint {
  /** Labels (expert votes, lead decisions included) spent so far. */
  labels: number;
  /** Pool images with a consensus, i.e. training labels. */
  resolved: number;
  /** Of which the consensus says abnormal. */
  resolvedAbnormal: number;
  /** Pool images whose consensus differs from the truth (simulated label errors). */
  labelErrors: number;
  /** Balanced accuracy on the held-out images against the truth; 0.5 before the first model. */
  balancedAccuracy: number;
  heldOut: Confusion;
}

export interface ReplayResult {
  order: string;
  curve: CurvePoint[];
  states: Map<number, ImageState>;
  /** Scores of the last model (null when no model could be trained). */
  pAbnormal: Float32Array | null;
  /** Consensus verdict per image (1 = abnormal) at the end; -1 where unresolved or held out. */
  consensus: Int8Array;
}

/** Balanced accuracy of scores against the truth on `images`; 0.5 when there is no model (all normal). */
export function heldOutScore(
  truth: ArrayLike<number>,
  pAbnormal: Float32Array | null,
  images: readonly number[],
): { balancedAccuracy: number; confusion: Confusion } {
  const t = images.map((i) => truth[i]);
  const predicted = images.map((i) => (pAbnormal && pAbnormal[i] > THRESHOLD ? 1 : 0));
  const c = confusion(t, predicted);
  const s = score(c);
  if (s.balancedAccuracy === null) throw new Error(`held-out images lack a class: ${s.note}`);
  return { balancedAccuracy: s.balancedAccuracy, confusion: c };
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { bundles, truth, pool, heldOut, votes, consensus, ordering, trainer, retrainEvery } = options;
  const poolSet = new Set(pool);
  for (const i of heldOut) if (poolSet.has(i)) throw new Error(`image ${i} is both in the pool and held out`);

  const states = new Map<number, ImageState>();
  for (const i of pool)
    states.set(i, { votes: [], lead: null, outcome: decideConsensus([], null, consensus) });
  const consensusOf = new Int8Array(bundles.length).fill(-1);
  let pAbnormal: Float32Array | null = null;
  let modelVersion = 0;
  let labelsSpent = 0;
  const curve: CurvePoint[] = [];

  const view = (): ReplayView => ({ bundles, pool, states, pAbnormal, modelVersion, labelsSpent });
  const needsVote = (i: number) => {
    const o = states.get(i)!.outcome;
    return o.status === 'pending' || o.status === 'needs_lead';
  };
  const record = () => {
    let resolved = 0;
    let resolvedAbnormal = 0;
    let labelErrors = 0;
    for (const i of pool) {
      if (consensusOf[i] < 0) continue;
      resolved++;
      resolvedAbnormal += consensusOf[i];
      if (consensusOf[i] !== truth[i]) labelErrors++;
    }
    const s = heldOutScore(truth, pAbnormal, heldOut);
    const point: CurvePoint = {
      labels: labelsSpent,
      resolved,
      resolvedAbnormal,
      labelErrors,
      balancedAccuracy: s.balancedAccuracy,
      heldOut: s.confusion,
    };
    curve.push(point);
    options.onPoint?.(point);
  };
  const retrain = async () => {
    const train = pool.filter((i) => consensusOf[i] >= 0);
    const abnormal = train.filter((i) => consensusOf[i] === 1).length;
    // A head trained on one class only learns a constant; wait for both (the runner does the same).
    if (abnormal > 0 && abnormal < train.length) {
      const labels = new Uint8Array(bundles.length);
      for (const i of train) labels[i] = consensusOf[i];
      pAbnormal = await trainer(train, labels);
      modelVersion++;
    }
    record();
  };

  record();
  const maxLabels = options.maxLabels ?? Infinity;
  let sinceTraining = 0;
  for (;;) {
    const candidates = pool.filter(needsVote);
    if (candidates.length === 0 || labelsSpent >= maxLabels) break;
    const image = ordering.next(view(), candidates);
    const state = states.get(image);
    if (!state || !needsVote(image))
      throw new Error(`${ordering.name} picked image ${image}, which needs no vote`);
    if (state.outcome.status === 'needs_lead') {
      state.lead = votes.lead(image);
    } else {
      state.votes.push(votes.vote(image, state.votes.length));
    }
    const ruleVotes = state.votes.map((v) => ({ verdict: v.verdict, anomalies: [] }));
    const resolution = state.lead ? { verdict: state.lead, anomalies: [] } : null;
    state.outcome = decideConsensus(ruleVotes, resolution, consensus);
    if (state.outcome.status === 'resolved')
      consensusOf[image] = state.outcome.verdict === 'abnormal' ? 1 : 0;
    labelsSpent++;
    sinceTraining++;
    if (sinceTraining >= retrainEvery) {
      sinceTraining = 0;
      await retrain();
    }
  }
  if (sinceTraining > 0) await retrain();
  return { order: ordering.name, curve, states, pAbnormal, consensus: consensusOf };
}

/**
 * The fewest labels at which a curve reaches `target`.
 * - 'first': the first point at or above the target.
 * - 'stays': the first point from which the curve never again falls more than `tolerance` below the target
 *   (a curve that touches the target once by luck does not count).
 * null when the curve never gets there.
 */
export function labelsToReach(
  curve: readonly CurvePoint[],
  target: number,
  mode: 'first' | 'stays',
  tolerance = 0.01,
): number | null {
  const eps = 1e-12;
  if (mode === 'first') return curve.find((p) => p.balancedAccuracy >= target - eps)?.labels ?? null;
  let candidate: number | null = null;
  for (const p of curve) {
    if (p.balancedAccuracy < target - tolerance - eps) candidate = null;
    else if (candidate === null && p.balancedAccuracy >= target - eps) candidate = p.labels;
  }
  return candidate;
}
