/**
 * One seed of the experiment: the three replays on the same pre-drawn panel and held-out bundles, the
 * labels each needs to reach the target, and the review count.
 */
import type { ConsensusSettings } from '../../lib/consensus/rule.ts';
import type { EmbeddingTable } from '../../model-runner/src/head/train.ts';
import { trainAndCrossValidate } from '../../model-runner/src/cv/cross-validate.ts';
import { scoreImages, trainHead } from '../../model-runner/src/head/train.ts';
import { randomOrdering, randomRanks, uncertaintyOrdering } from './orders.ts';
import type { PreDrawnPanel } from './panel.ts';
import { platinaOrdering, platinaPriority, replayCoverage } from './platina.ts';
import { labelsToReach, replay } from './replay.ts';
import type { CurvePoint, Ordering, ReplayResult, ReplayView } from './replay.ts';
import { reviewCatches } from './review.ts';
import type { ReviewReport } from './review.ts';

/**
 * Adaptive overlap (lib/consensus/rule.ts): two votes decide when they agree, a split asks for a third.
 * Every order uses the same rule, so the curves differ by ordering alone.
 */
export const CONSENSUS: ConsensusSettings = { votesRequired: 2, votesMax: 3 };

/**
 * Held-out bundles per seed: three of the twelve, never labeled, ~150 images with ~30 abnormal each, chosen so
 * that the two largest bundles (6 and 7) stay in the pool. Seeds rotate through the three sets.
 */
export const HELD_OUT_SETS = [
  ['bundle-02', 'bundle-04', 'bundle-09'],
  ['bundle-01', 'bundle-10', 'bundle-11'],
  ['bundle-03', 'bundle-05', 'bundle-12'],
];

export const REVIEW_KS = [10, 25, 50];

export interface ExperimentData {
  bundles: string[];
  truth: Uint8Array;
  table: EmbeddingTable;
  method: 2 | 3;
  /** Every image's evidence vector, for the unusualness term of Platina's priority (platina.ts). */
  evidence?: { vectors: Float32Array; dim: number };
}

export interface SeedResult {
  seed: number;
  heldOutBundles: string[];
  heldOutImages: number;
  heldOutAbnormal: number;
  poolImages: number;
  /** Accuracy every order reaches once all pool images are resolved (the same labels give the same model). */
  target: number;
  totalLabels: number;
  orders: {
    order: string;
    curve: CurvePoint[];
    first: number | null;
    stays: number | null;
    seconds: number;
  }[];
  review: { inSample: ReviewReport; outOfFold: ReviewReport };
}

export interface SeedOptions {
  seed: number;
  orders: readonly string[];
  epochs: number;
  retrainEvery: number;
  /** ONNX Runtime threads for head training (1 is fastest on a busy 2-core machine). */
  threads?: number;
  panel: (depth: number, seed: number) => PreDrawnPanel;
  log: (message: string) => void;
}

export async function runSeed(data: ExperimentData, o: SeedOptions): Promise<SeedResult> {
  const { seed, retrainEvery, log } = o;
  const heldOutBundles = HELD_OUT_SETS[seed % HELD_OUT_SETS.length].filter((b) => data.bundles.includes(b));
  const all = data.bundles.map((_, i) => i);
  const heldOut = all.filter((i) => heldOutBundles.includes(data.bundles[i]));
  const pool = all.filter((i) => !heldOutBundles.includes(data.bundles[i]));
  const panel = o.panel(CONSENSUS.votesMax, seed);
  const trainer = async (train: readonly number[], labels: Uint8Array) => {
    const { params } = await trainHead(data.table, labels, train, {
      seed,
      epochs: o.epochs,
      threads: o.threads,
    });
    return scoreImages(params, data.table);
  };
  const n = data.bundles.length;
  const orderings: Record<string, () => Ordering> = {
    platina: () => platinaOrdering(n, seed, data.evidence),
    random: () => randomOrdering(n, seed),
    uncertainty: () => uncertaintyOrdering(n, seed),
  };
  const results: { result: ReplayResult; seconds: number }[] = [];
  for (const name of o.orders) {
    const make = orderings[name];
    if (!make) throw new Error(`unknown order ${name}: ${Object.keys(orderings).join(', ')}`);
    const t0 = performance.now();
    const result = await replay({
      bundles: data.bundles,
      truth: data.truth,
      pool,
      heldOut,
      votes: panel,
      consensus: CONSENSUS,
      ordering: make(),
      trainer,
      retrainEvery,
      onPoint: (p) => {
        if (p.labels % (retrainEvery * 8) === 0)
          log(
            `seed ${seed} ${name}: ${p.labels} labels, ${p.resolved} resolved ` +
              `(${p.resolvedAbnormal} abnormal), balanced accuracy ${(100 * p.balancedAccuracy).toFixed(1)} %`,
          );
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    log(
      `seed ${seed} ${name}: ${result.curve.at(-1)!.labels} labels in ${seconds.toFixed(0)} s, ` +
        `final ${(100 * result.curve.at(-1)!.balancedAccuracy).toFixed(2)} %`,
    );
    results.push({ result, seconds });
  }
  // Every order ends in the same state (same votes, same labels, same seeded training); random is the reference.
  const reference = (results.find((r) => r.result.order === 'random') ?? results[0]).result;
  const target = reference.curve.at(-1)!.balancedAccuracy;
  const finalView: ReplayView = {
    bundles: data.bundles,
    pool,
    states: reference.states,
    pAbnormal: reference.pAbnormal,
    modelVersion: reference.curve.length,
    labelsSpent: reference.curve.at(-1)!.labels,
  };
  const coverage = replayCoverage(finalView);
  const inSample = reviewCatches(
    reference.consensus,
    data.truth,
    (i) => platinaPriority(finalView, coverage, i),
    reference.states,
    randomRanks(n, seed),
    REVIEW_KS,
  );
  // The same review on out-of-fold scores: leave-one-bundle-out over the pool (model-runner/src/cv), so no
  // image is scored by a model that was trained on its own (possibly wrong) label.
  const resolvedImages = pool.filter((i) => reference.consensus[i] >= 0);
  const { dim, variants } = data.table;
  const sub = {
    vectors: new Float32Array(resolvedImages.length * variants * dim),
    images: resolvedImages.length,
    variants,
    dim,
  };
  resolvedImages.forEach((i, k) =>
    sub.vectors.set(
      data.table.vectors.subarray(i * variants * dim, (i + 1) * variants * dim),
      k * variants * dim,
    ),
  );
  const t0 = performance.now();
  const cv = await trainAndCrossValidate({
    embeddings: sub,
    labels: resolvedImages.map((i) => reference.consensus[i]),
    bundles: resolvedImages.map((i) => data.bundles[i]),
    method: data.method,
    seed,
    trainFinal: false,
    training: { epochs: o.epochs, threads: o.threads },
  });
  const oof = new Float32Array(n).fill(0.5);
  for (const fold of cv.folds) fold.images.forEach((k, j) => (oof[resolvedImages[k]] = fold.pAbnormal[j]));
  const oofView: ReplayView = { ...finalView, pAbnormal: oof };
  const outOfFold = reviewCatches(
    reference.consensus,
    data.truth,
    (i) => platinaPriority(oofView, coverage, i),
    reference.states,
    randomRanks(n, seed),
    REVIEW_KS,
  );
  log(`seed ${seed}: out-of-fold review scores in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return {
    seed,
    heldOutBundles,
    heldOutImages: heldOut.length,
    heldOutAbnormal: heldOut.filter((i) => data.truth[i] === 1).length,
    poolImages: pool.length,
    target,
    totalLabels: reference.curve.at(-1)!.labels,
    orders: results.map(({ result, seconds }) => ({
      order: result.order,
      curve: result.curve,
      first: labelsToReach(result.curve, target, 'first'),
      stays: labelsToReach(result.curve, target, 'stays'),
      seconds,
    })),
    review: { inSample, outOfFold },
  };
}
