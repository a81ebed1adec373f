/**
 * Simulated experts: a pure model of how a human expert votes on a synthetic electrode whose ground truth
 * (anomaly types and severities, see plan.ts) is known. Used by tests of consensus / Dawid–Skene and by the
 * HTTP driver `scripts/simulate-experts.ts`.
 *
 * Model of one vote (expert e, image i):
 *  1. Noticing: each anomaly of type t and severity s is noticed with probability recall_e[t] · min(1, 0.4 + 1.2 s):
 *     faint anomalies are missed more often, and each expert has types they are weak at.
 *  2. Judging: a noticed anomaly is perceived at severity s + N(0, fuzz_e) and judged severe when that is at least
 *     0.5 + bias_e (bias > 0: a lenient expert who needs more to reject a plate). Near the threshold this is a coin
 *     flip: borderline images (manifest `difficulty` near 1) split the panel, clear ones do not.
 *  3. Lapses: the judgement J (abnormal if some noticed anomaly is judged severe) becomes the vote with the expert's
 *     sensitivity / specificity as ceilings: P(abnormal) = (1 − specificity) + (sensitivity − (1 − specificity)) · J.
 *     So on clear cases an expert is right with probability sensitivity (abnormal) or specificity (normal).
 *  4. Careless experts skip all that on a fraction `carelessness` of their votes: a random verdict (abnormal with
 *     the data set's base rate 21 %) and at most one random anomaly type, or (`carelessVote: 'normal'`) a plate
 *     waved through as normal.
 * The anomaly list of a vote holds the noticed anomalies perceived at ≥ 0.15 (a normal vote may list minor ones,
 * as the paper's figure 2d allows).
 *
 * Determinism: the vote depends only on (seed, expert name, image key, round), never on the order in which images
 * are voted, so a run over HTTP (whose queue order depends on timing) casts exactly the votes the model predicts.
 * Given the image, different experts' votes are independent; their errors are correlated only through the image
 * itself (a borderline image is hard for everyone), as with real experts.
 */
import { ANOMALY_TYPES, SEVERE, type AnomalySpec, type AnomalyType } from './plan.ts';
import { Rng } from './random.ts';

export interface ExpertProfile {
  name: string;
  /** P(vote abnormal) on a clearly abnormal image whose anomaly was noticed (a ceiling). */
  sensitivity: number;
  /** P(vote normal) on a clearly normal image (a ceiling). */
  specificity: number;
  /** P(noticing a full-severity anomaly) per type; types not listed: `defaultRecall`. */
  typeRecall: Partial<Record<AnomalyType, number>>;
  defaultRecall: number;
  /** Shift of the personal severity threshold (0.5 + bias). */
  bias: number;
  /** Standard deviation of the perceived severity around the true one. */
  fuzz: number;
  /** Fraction of votes cast without looking (0 for a diligent expert). */
  carelessness: number;
  /**
   * What a vote cast without looking says: 'random' (default: a verdict at the base rate, at most one random type)
   * or 'normal' (the plate is waved through: normal, no type — the careless habit a QC lab fears most, since most
   * plates are normal and plain agreement rewards it).
   */
  carelessVote?: 'random' | 'normal';
}

/** What an expert sees of an image: its key (a stable name), true anomalies and (for careless votes) nothing else. */
export interface ImageTruth {
  key: string;
  anomalies: readonly AnomalySpec[];
}

export interface SimulatedVote {
  verdict: 'normal' | 'abnormal';
  anomalies: AnomalyType[];
}

/** Perceived severity below which a noticed anomaly is not worth listing (also the CV's type truth, cv/dataset.ts). */
export const MENTION = 0.15;
/** Base rate of abnormal plates in the paper's data (152 / 714), used by careless votes. */
const BASE_RATE = 152 / 714;

/** The vote of `expert` on `image` in voting round `round` (a re-vote is a new round: it may differ). */
export function simulateVote(
  seed: number,
  expert: ExpertProfile,
  image: ImageTruth,
  round = 0,
): SimulatedVote {
  const r = Rng.at(seed, 'vote', expert.name, image.key, round);
  if (r.chance(expert.carelessness)) {
    if (expert.carelessVote === 'normal') return { verdict: 'normal', anomalies: [] };
    return {
      verdict: r.chance(BASE_RATE) ? 'abnormal' : 'normal',
      anomalies: r.chance(0.4) ? [r.pick(ANOMALY_TYPES)] : [],
    };
  }
  let judgedSevere = false;
  const listed: AnomalyType[] = [];
  for (const a of image.anomalies) {
    const recall = (expert.typeRecall[a.type] ?? expert.defaultRecall) * Math.min(1, 0.4 + 1.2 * a.severity);
    const noticed = r.chance(recall);
    const perceived = a.severity + expert.fuzz * r.normal(); // drawn either way: keeps streams aligned
    if (!noticed) continue;
    if (perceived >= SEVERE + expert.bias) judgedSevere = true;
    if (perceived >= MENTION) listed.push(a.type);
  }
  const pAbnormal = judgedSevere ? expert.sensitivity : 1 - expert.specificity;
  const verdict = r.chance(pAbnormal) ? 'abnormal' : 'normal';
  return { verdict, anomalies: ANOMALY_TYPES.filter((t) => listed.includes(t)) };
}

/**
 * A panel of `n` experts with varied skills: sensitivities 0.86–0.96, specificities 0.90–0.98, thresholds within
 * ±0.06 of 0.5, judgement noise 0.05–0.10, each weak (recall 0.55) at two anomaly types. With `careless`, the last
 * expert votes without looking 40 % of the time. Deterministic for a seed; names expert1 … expertN.
 */
export function expertPanel(seed: number, n: number, options: { careless?: boolean } = {}): ExpertProfile[] {
  return Array.from({ length: n }, (_, i) => {
    const r = Rng.at(seed, 'expert-profile', i);
    const weak = r.shuffle(ANOMALY_TYPES).slice(0, 2);
    const careless = options.careless === true && i === n - 1;
    return {
      name: `expert${i + 1}`,
      sensitivity: round3(r.range(0.86, 0.96)),
      specificity: round3(r.range(0.9, 0.98)),
      typeRecall: Object.fromEntries(weak.map((t) => [t, 0.55])),
      defaultRecall: round3(r.range(0.92, 0.99)),
      bias: round3(r.range(-0.06, 0.06)),
      fuzz: round3(r.range(0.05, 0.1)),
      carelessness: careless ? 0.4 : 0,
    };
  });
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
