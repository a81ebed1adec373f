/**
 * `npm run bench:active` — proof that Platina's ordering saves labels (issue 7).
 *
 * On the full synthetic dataset with simulated experts of known truth, replays a labeling campaign in three
 * orders (Platina's priority, random, uncertainty-only), retraining the paper's head every 25 labels, and
 * measures balanced accuracy on held-out bundles against labels spent. Writes bench/results/active.json,
 * docs/active-learning.svg and docs/active-learning.md. The method is documented in docs/active-learning.md
 * (written by this script, so text and numbers never disagree).
 *
 * Options: --seeds N (default 3), --input HxW (default 448x224), --epochs N (default 20), --retrain-every N
 * (default 25), --dir DIR (dataset, default /tmp/platina-synth-full), --scale full|small, --orders a,b,c,
 * --no-docs (write only the JSON).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ConsensusSettings } from '../lib/consensus/rule.ts';
import { scoreImages, trainHead } from '../model-runner/src/head/train.ts';
import { loadActiveDataset } from './active/data.ts';
import type { ActiveDataset } from './active/data.ts';
import { makePanel, PANEL_DESCRIPTION } from './active/experts.ts';
import { platinaOrdering, PLATINA_SOURCE } from './active/platina.ts';
import { randomOrdering, randomRanks, uncertaintyOrdering } from './active/orders.ts';
import { heldOutScore, labelsToReach, replay } from './active/replay.ts';
import type { CurvePoint, Ordering, ReplayResult } from './active/replay.ts';
import { reviewCatches } from './active/review.ts';
import type { ReviewReport } from './active/review.ts';
import { summarize, writeDocs } from './active/report.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    input: { type: 'string', default: '448x224' },
    epochs: { type: 'string', default: '20' },
    'retrain-every': { type: 'string', default: '25' },
    dir: { type: 'string', default: '/tmp/platina-synth-full' },
    scale: { type: 'string', default: 'full' },
    orders: { type: 'string', default: 'platina,random,uncertainty' },
    'no-docs': { type: 'boolean', default: false },
  },
});
const root = path.resolve(import.meta.dirname, '..');
const seeds = Array.from({ length: Number(values.seeds) }, (_, s) => s);
const [height, width] = values.input!.split('x').map(Number);
const epochs = Number(values.epochs);
const retrainEvery = Number(values['retrain-every']);
const scale = values.scale as 'full' | 'small';
const orderNames = values.orders!.split(',');
const started = Date.now();
const log = (m: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${m}`);

/**
 * Adaptive overlap (lib/consensus/rule.ts): two votes decide when they agree, a split asks for a third.
 * Every order uses the same rule, so the curves differ by ordering alone.
 */
const CONSENSUS: ConsensusSettings = { votesRequired: 2, votesMax: 3 };

/**
 * Held-out bundles per seed: three of the twelve, never labeled, ~150 images with ~30 abnormal each, chosen so
 * that the two largest bundles (6 and 7) stay in the pool. Seeds rotate through the three sets.
 */
const HELD_OUT_SETS = [
  ['bundle-02', 'bundle-04', 'bundle-09'],
  ['bundle-01', 'bundle-10', 'bundle-11'],
  ['bundle-03', 'bundle-05', 'bundle-12'],
];

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
  review: { inSample: ReviewReport };
}

async function runSeed(data: ActiveDataset, seed: number): Promise<SeedResult> {
  const heldOutBundles = HELD_OUT_SETS[seed % HELD_OUT_SETS.length].filter((b) => data.bundles.includes(b));
  const all = data.bundles.map((_, i) => i);
  const heldOut = all.filter((i) => heldOutBundles.includes(data.bundles[i]));
  const pool = all.filter((i) => !heldOutBundles.includes(data.bundles[i]));
  const panel = makePanel(data, CONSENSUS.votesMax, seed);
  const trainer = async (train: readonly number[], labels: Uint8Array) => {
    const { params } = await trainHead(data.table, labels, train, { seed, epochs });
    return scoreImages(params, data.table);
  };
  const n = data.bundles.length;
  const orderings: Record<string, () => Ordering> = {
    platina: () => platinaOrdering(n, seed),
    random: () => randomOrdering(n, seed),
    uncertainty: () => uncertaintyOrdering(n, seed),
  };
  const results: { result: ReplayResult; seconds: number }[] = [];
  for (const name of orderNames) {
    const t0 = performance.now();
    const result = await replay({
      bundles: data.bundles,
      truth: data.truth,
      pool,
      heldOut,
      votes: panel,
      consensus: CONSENSUS,
      ordering: orderings[name](),
      trainer,
      retrainEvery,
      onPoint: (p) => {
        if (p.labels % (retrainEvery * 10) === 0)
          log(
            `seed ${seed} ${name}: ${p.labels} labels, ${p.resolved} resolved, balanced accuracy ${(100 * p.balancedAccuracy).toFixed(1)} %`,
          );
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    log(
      `seed ${seed} ${name}: done in ${seconds.toFixed(0)} s, final ${(100 * result.curve.at(-1)!.balancedAccuracy).toFixed(2)} %`,
    );
    results.push({ result, seconds });
  }
  const reference = results.find((r) => r.result.order === 'random') ?? results[0];
  const target = reference.result.curve.at(-1)!.balancedAccuracy;
  // The final state is the same for every order; the review runs on it once.
  const last = reference.result;
  const inSample = reviewCatches(
    last.consensus,
    data.truth,
    last.pAbnormal!,
    last.states,
    randomRanks(n, seed),
    [10, 25, 50],
  );
  const final = heldOutScore(data.truth, last.pAbnormal, heldOut);
  return {
    seed,
    heldOutBundles,
    heldOutImages: heldOut.length,
    heldOutAbnormal: heldOut.filter((i) => data.truth[i] === 1).length,
    poolImages: pool.length,
    target: final.balancedAccuracy,
    totalLabels: last.curve.at(-1)!.labels,
    orders: results.map(({ result, seconds }) => ({
      order: result.order,
      curve: result.curve,
      first: labelsToReach(result.curve, target, 'first'),
      stays: labelsToReach(result.curve, target, 'stays'),
      seconds,
    })),
    review: { inSample },
  };
}

const data = await loadActiveDataset({
  dir: values.dir!,
  scale,
  inputSize: { height, width },
  cacheDir: path.join(values.dir!, '.bench-active'),
  log,
});
log(
  `${data.rows.length} images, ${data.truth.reduce((s, t) => s + t, 0)} abnormal, embeddings ${data.inputSize.height}×${data.inputSize.width} ` +
    `(method 2, bounds ${data.bounds.lo}–${data.bounds.hi}) in ${data.embedSeconds.toFixed(0)} s`,
);
const perSeed: SeedResult[] = [];
for (const seed of seeds) {
  perSeed.push(await runSeed(data, seed));
  const summary = summarize(perSeed, orderNames);
  const json = {
    name: 'active',
    started: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    settings: {
      dataset: {
        dir: data.dir,
        scale,
        images: data.rows.length,
        abnormal: data.truth.reduce((s, t) => s + t, 0),
      },
      embeddings: {
        inputSize: `${data.inputSize.height}x${data.inputSize.width}`,
        method: data.method,
        bounds: data.bounds,
        flips: data.table.variants,
        backbone: data.backbone,
      },
      head: { epochs, paperEpochs: 50, otherwise: 'TRAINING_DEFAULTS (model-runner/src/head/train.ts)' },
      retrainEvery,
      consensus: CONSENSUS,
      panel: PANEL_DESCRIPTION,
      platina: PLATINA_SOURCE,
      heldOutSets: HELD_OUT_SETS,
    },
    summary,
    perSeed,
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/active.json'), JSON.stringify(json, null, 1) + '\n');
  if (!values['no-docs']) writeDocs(root, json);
  log(`seed ${seed} written (${perSeed.length}/${seeds.length})`);
}
