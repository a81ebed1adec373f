/**
 * Summaries over seeds, the plot (docs/active-learning.svg) and the write-up (docs/active-learning.md) of
 * `npm run bench:active`. The markdown is generated so that its numbers are always the measured ones.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { labelsToReach } from './replay.ts';
import type { CurvePoint } from './replay.ts';
import type { ReviewReport } from './review.ts';
import { lineChart } from './svg.ts';
import type { CeilingRow } from './ceiling.ts';
import type { SeedResult } from './experiment.ts';

/** A seed's result as experiment.ts makes it; older result files may lack the out-of-fold review. */
type SeedLike = Omit<SeedResult, 'review'> & { review: { inSample: ReviewReport; outOfFold?: ReviewReport } };

export interface Stat {
  mean: number;
  sd: number;
  min: number;
  max: number;
  n: number;
}

export function stat(xs: readonly number[]): Stat | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Accuracy of a curve at `labels`: the last point at or before it (the model in use then). */
export function accuracyAt(curve: readonly CurvePoint[], labels: number): number {
  let value = curve[0].balancedAccuracy;
  for (const p of curve) {
    if (p.labels > labels) break;
    value = p.balancedAccuracy;
  }
  return value;
}

export interface OrderSummary {
  order: string;
  /** Labels to reach the target per seed (null: never), both criteria. */
  first: (number | null)[];
  stays: (number | null)[];
  /** 1 − labels / random's labels, per seed, for each criterion (null where either never reached). */
  savingFirst: (number | null)[];
  savingStays: (number | null)[];
  savingFirstStat: Stat | null;
  savingStaysStat: Stat | null;
  /** Share of all labels needed ('stays'), per seed. */
  shareOfAll: (number | null)[];
  meanCurve: { labels: number; mean: number; min: number; max: number }[];
  /** Labels to reach the mean target on the seed-averaged curve (less noisy than any one seed). */
  meanCurveStays: number | null;
  meanCurveFirst: number | null;
  seconds: number[];
}

export interface Summary {
  seeds: number;
  target: Stat;
  totalLabels: Stat;
  orders: OrderSummary[];
  review: {
    k: number;
    caught: Stat;
    /** With out-of-fold scores (leave-one-bundle-out over the pool). */
    caughtOutOfFold: Stat | null;
    caughtBySplit: Stat;
    expectedRandom: Stat;
  }[];
  labelErrors: Stat;
  resolved: Stat;
}

export function summarize(perSeed: readonly SeedLike[], orderNames: readonly string[]): Summary {
  const grid: number[] = [];
  const maxLabels = Math.max(...perSeed.map((s) => s.totalLabels));
  const step = perSeed[0].orders[0].curve[1]?.labels ?? 25;
  for (let x = 0; x <= maxLabels; x += step) grid.push(x);
  if (grid.at(-1)! < maxLabels) grid.push(maxLabels);
  const saving = (mine: number | null, theirs: number | null) =>
    mine === null || theirs === null || theirs === 0 ? null : 1 - mine / theirs;
  const orders = orderNames.map((order): OrderSummary => {
    const runs = perSeed.map((s) => ({ seed: s, run: s.orders.find((o) => o.order === order)! }));
    const random = perSeed.map((s) => s.orders.find((o) => o.order === 'random'));
    const savingFirst = runs.map(({ run }, k) => saving(run.first, random[k]?.first ?? null));
    const savingStays = runs.map(({ run }, k) => saving(run.stays, random[k]?.stays ?? null));
    const nonNull = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
    return {
      order,
      first: runs.map(({ run }) => run.first),
      stays: runs.map(({ run }) => run.stays),
      savingFirst,
      savingStays,
      savingFirstStat: stat(nonNull(savingFirst)),
      savingStaysStat: stat(nonNull(savingStays)),
      shareOfAll: runs.map(({ run, seed }) => (run.stays === null ? null : run.stays / seed.totalLabels)),
      meanCurve: grid.map((labels) => {
        const ys = runs.map(({ run }) => accuracyAt(run.curve, labels));
        const s = stat(ys)!;
        return { labels, mean: s.mean, min: s.min, max: s.max };
      }),
      meanCurveStays: null,
      meanCurveFirst: null,
      seconds: runs.map(({ run }) => run.seconds),
    };
  });
  const target = stat(perSeed.map((s) => s.target))!;
  for (const o of orders) {
    const curve = o.meanCurve.map((p) => ({ labels: p.labels, balancedAccuracy: p.mean }) as CurvePoint);
    o.meanCurveStays = labelsToReach(curve, target.mean, 'stays');
    o.meanCurveFirst = labelsToReach(curve, target.mean, 'first');
  }
  const ks = perSeed[0].review.inSample.rows.map((r) => r.k);
  return {
    seeds: perSeed.length,
    target,
    totalLabels: stat(perSeed.map((s) => s.totalLabels))!,
    orders,
    review: ks.map((k, j) => ({
      k,
      caught: stat(perSeed.map((s) => s.review.inSample.rows[j].caught))!,
      caughtOutOfFold: stat(
        perSeed.flatMap((s) => (s.review.outOfFold ? [s.review.outOfFold.rows[j].caught] : [])),
      ),
      caughtBySplit: stat(perSeed.map((s) => s.review.inSample.rows[j].caughtBySplit))!,
      expectedRandom: stat(perSeed.map((s) => s.review.inSample.rows[j].expectedRandom))!,
    })),
    labelErrors: stat(perSeed.map((s) => s.review.inSample.labelErrors))!,
    resolved: stat(perSeed.map((s) => s.review.inSample.resolved))!,
  };
}

export const ORDER_STYLE: Record<string, { label: string; color: string }> = {
  platina: { label: "Platina's priority", color: '#c2410c' },
  random: { label: 'random', color: '#2563eb' },
  uncertainty: { label: 'uncertainty only', color: '#059669' },
};

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)} %`;
const pm = (s: Stat | null, scale = 100, digits = 0, unit = ' %') =>
  s === null
    ? 'never reached'
    : `${(scale * s.mean).toFixed(digits)}${unit} ± ${(scale * s.sd).toFixed(digits)}${unit.trim() ? unit : ''} (${(scale * s.min).toFixed(digits)} to ${(scale * s.max).toFixed(digits)})`;

export function chartSvg(summary: Summary, subtitle: string): string {
  return lineChart({
    title: 'Balanced accuracy on held-out bundles vs labels spent',
    subtitle,
    xLabel: 'labels spent (expert votes)',
    yLabel: 'balanced accuracy on held-out bundles',
    yFormat: (y) => `${Math.round(y * 100)} %`,
    series: summary.orders.map((o) => ({
      name: ORDER_STYLE[o.order]?.label ?? o.order,
      color: ORDER_STYLE[o.order]?.color ?? '#555',
      points: o.meanCurve.map((p) => ({ x: p.labels, y: p.mean })),
      band: summary.seeds > 1 ? o.meanCurve.map((p) => ({ x: p.labels, lo: p.min, hi: p.max })) : undefined,
    })),
    reference: {
      y: summary.target.mean,
      label: `random order with all labels: ${pct(summary.target.mean)}${summary.seeds > 1 ? ' (mean over seeds)' : ''}`,
    },
  });
}

/** The ResNet-34 embedding's width (the backbone's pooled features). */
const EMBEDDING_DIM = 512;

/**
 * "fused: ResNet-34 embedding (512) + evidence (307 values, each beside its per-bundle normalised copy: 614) =
 * 1126 values per image"; results before issue 13 are paper.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function featuresInWords(s: any): string {
  const f = s.features;
  if (!f) return `paper: the ResNet-34 embedding alone (${EMBEDDING_DIM} values per image)`;
  const evidence = (width: number): string =>
    width === 2 * f.evidence.values
      ? `evidence (${f.evidence.values} values, each beside its per-bundle normalised copy: ${width})`
      : `evidence (${width})`;
  switch (f.set) {
    case 'paper':
      return `paper: the ResNet-34 embedding alone (${f.inputDim} values per image)`;
    case 'evidence':
      return `evidence: ${evidence(f.inputDim)} = ${f.inputDim} values per image`;
    default:
      return `fused: ResNet-34 embedding (${EMBEDDING_DIM}) + ${evidence(f.inputDim - EMBEDDING_DIM)} = ${f.inputDim} values per image`;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function writeDocs(root: string, json: any): void {
  const summary: Summary = json.summary;
  const s = json.settings;
  const subtitle =
    `${s.dataset.images} synthetic images, ${summary.seeds} seed${summary.seeds > 1 ? 's' : ''} (mean; band = min–max), ` +
    `retrain every ${s.retrainEvery} labels, 3 held-out bundles`;
  writeFileSync(path.join(root, 'docs/active-learning.svg'), chartSvg(summary, subtitle));
  writeFileSync(path.join(root, 'docs/active-learning.md'), markdown(json));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function markdown(json: any): string {
  const summary: Summary = json.summary;
  const s = json.settings;
  const perSeed: SeedLike[] = json.perSeed;
  const platina = summary.orders.find((o) => o.order === 'platina');
  const lines: string[] = [];
  const L = (x = '') => lines.push(x);
  L("# Active learning: does Platina's ordering save labels?");
  L();
  L(
    'Generated by `npm run bench:active` (bench/active/run.ts); numbers from `bench/results/active.json`, run started',
  );
  L(
    `${json.started}, ${Math.round(json.seconds / 60)} min on ${json.machine.cpus} CPU cores (${json.machine.cpu}).`,
  );
  L(
    `The head saw **${featuresInWords(s)}**; embeddings at ${s.embeddings.inputSize.replace('x', '×')}, conversion method ${s.embeddings.method}.`,
  );
  L();
  L('![Balanced accuracy on held-out bundles against labels spent](active-learning.svg)');
  L();
  L('## Result');
  L();
  if (platina?.savingStaysStat) {
    const met = platina.savingStaysStat.mean >= 0.3;
    L(
      `Platina's order needs **${pm(platina.savingStaysStat)}** fewer labels than random order to reach the accuracy random ` +
        `order reaches with all labels (mean ± sd over ${platina.savingStaysStat.n} seeds, min to max). ` +
        `Target ≥ 30 %: **${met ? 'met' : 'not met'}**.`,
    );
  } else L("Platina's order did not reach the target accuracy in every seed; see the table.");
  L();
  // How noisy one curve is: mean |change| between consecutive retrains over the second half of the labels, where
  // the training set grows by only a few percent per retrain and any large swing is training noise.
  const jitter = stat(
    perSeed.flatMap((seed) =>
      seed.orders.flatMap((o) => {
        const half = o.curve.filter((p) => p.labels >= seed.totalLabels / 2);
        return half.slice(1).map((p, k) => Math.abs(p.balancedAccuracy - half[k].balancedAccuracy));
      }),
    ),
  );
  const ceilings: CeilingRow[] = json.ceiling ?? [];
  const used = ceilings.filter((r) => r.procedure === 'default').map((r) => r.balancedAccuracy);
  const met = (platina?.savingStaysStat?.mean ?? 0) >= 0.3;
  if (used.length > 0 && !met) {
    const paperOnly = !s.features || s.features.set === 'paper';
    const gap = stat(perSeed.map((x, k) => (used[k % used.length] ?? x.target) - x.target));
    L(
      `**${paperOnly ? 'Read this as "not measurable here", not as "the ordering does not work".' : 'Why the target is missed.'}** ` +
        'Trained on the whole pool with the ' +
        `TRUE verdicts the head reaches ${used.map((x) => pct(x)).join(', ')} on the three held-out sets (see below)` +
        `${Math.max(...used) < 0.7 ? ', close to chance' : ''}; random order with all labels reaches ` +
        `${perSeed.map((x) => pct(x.target)).join(', ')}${jitter ? `, and from one retrain to the next the held-out accuracy moves by ${pct(jitter.mean)} on average` : ''}. ` +
        'With targets that close to the noise, labels-to-reach is decided by when a curve last dips below the target, ' +
        'not by the ordering. ' +
        (paperOnly
          ? `The cause is the backbone: the offline ResNet-34 is untrained (no ImageNet weights can be ` +
            `downloaded here) and run at ${s.embeddings.inputSize.replace('x', '×')}; a linear classifier fitted exactly on its ` +
            'features does about as well as the head (README, Table 1). A pretrained backbone (PLATINA_BACKBONE, ' +
            'model-runner/export-resnet34.py) is the precondition for this benchmark to mean anything.'
          : `The head saw ${featuresInWords(s)}. The room an ordering can gain in is the climb from the first model to ` +
            `the final one, and on these held-out coatings it is small: the head with every label true stands ` +
            `${gap ? `${pct(gap.mean)} (${pct(gap.min)} to ${pct(gap.max)})` : '—'} above the target, the same order as the ` +
            "retrain-to-retrain noise; what the features carry from the pool's coatings to the held-out ones bounds " +
            'the saving, not the ordering.'),
    );
    L();
  }
  L('Labels needed to reach the target (the accuracy random order reaches with all labels), per seed:');
  L();
  L(
    '| seed | held-out bundles (images / abnormal) | all labels | target | ' +
      summary.orders.map((o) => ORDER_STYLE[o.order]?.label ?? o.order).join(' | ') +
      ' |',
  );
  L('| --- | --- | ---: | ---: | ' + summary.orders.map(() => '---:').join(' | ') + ' |');
  perSeed.forEach((seed, k) => {
    const cells = summary.orders.map((o) => {
      const st = o.stays[k];
      const fi = o.first[k];
      return st === null ? 'never' : `${st}${fi !== null && fi !== st ? ` (first ${fi})` : ''}`;
    });
    L(
      `| ${seed.seed} | ${seed.heldOutBundles.join(', ')} (${seed.heldOutImages} / ${seed.heldOutAbnormal}) | ${seed.totalLabels} | ${pct(seed.target)} | ${cells.join(' | ')} |`,
    );
  });
  L();
  L("Savings against random order (1 − labels / random's labels), mean ± sd (min to max):");
  L();
  L('| order | "stays" criterion | "first" criterion |');
  L('| --- | ---: | ---: |');
  for (const o of summary.orders) {
    if (o.order === 'random') continue;
    L(`| ${ORDER_STYLE[o.order]?.label ?? o.order} | ${pm(o.savingStaysStat)} | ${pm(o.savingFirstStat)} |`);
  }
  L();
  L(
    '"stays": the first retrain from which the accuracy never again drops more than 1 percentage point below the',
  );
  L(
    'target; "first": the first retrain at or above the target (a lucky touch counts). The table above shows',
  );
  L('"stays", with "first" in brackets where it differs.');
  L();
  const random = summary.orders.find((o) => o.order === 'random');
  if (summary.seeds > 1 && random) {
    L(
      `On the seed-averaged curves (target ${pct(summary.target.mean)}, "stays"): ` +
        summary.orders
          .map((o) => {
            const saving =
              o.meanCurveStays !== null && random.meanCurveStays
                ? 1 - o.meanCurveStays / random.meanCurveStays
                : null;
            return `${ORDER_STYLE[o.order]?.label ?? o.order} ${o.meanCurveStays === null ? 'never reaches it' : `${o.meanCurveStays} labels`}${o.order !== 'random' && saving !== null ? ` (${pct(saving, 0)} fewer than random)` : ''}`;
          })
          .join(', ') +
        '.',
    );
    L();
  }
  if (jitter) {
    L(
      `Noise: over the second half of the labels, balanced accuracy moves by ${pct(jitter.mean)} on average from one retrain to the ` +
        `next (25 more labels, ~2 % more training images): differences between orders smaller than that are not findings.`,
    );
    L();
  }
  L('## Label errors the review catches');
  L();
  L(
    `With all labels in, ${summary.labelErrors.mean.toFixed(1)} of ${summary.resolved.mean.toFixed(0)} consensus labels are wrong ` +
      `on average (consensus ≠ truth). The lead's review queue ranks resolved images by how confidently the model ` +
      `contradicts their consensus; label errors among its top K (mean over seeds, min–max):`,
  );
  L();
  const range = (x: Stat | null) => (x === null ? '—' : `${x.mean.toFixed(1)} (${x.min}–${x.max})`);
  L(
    '| K | review, in-sample scores | review, out-of-fold scores | expert-split first (no model) | K random (expected) |',
  );
  L('| ---: | ---: | ---: | ---: | ---: |');
  for (const r of summary.review) {
    L(
      `| ${r.k} | ${range(r.caught)} | ${range(r.caughtOutOfFold)} | ${range(r.caughtBySplit)} | ${r.expectedRandom.mean.toFixed(1)} |`,
    );
  }
  L();
  L(
    'In-sample: the final model, trained on every resolved image, scores them (what the runner does with its own',
  );
  L(
    'training images); it partly memorises wrong labels. Out-of-fold: each pool bundle scored by a head trained on',
  );
  L(
    'the other pool bundles (model-runner/src/cv, same epochs), so no image is judged by a model that learned its own',
  );
  L(
    "label. The review score is Platina's c = max(0, 2q − 1), q = P(the verdict the consensus did not choose).",
  );
  L();
  const ceilingRows: CeilingRow[] | null = json.ceiling ?? null;
  if (ceilingRows) {
    L('## What the head can learn from these features at all');
    L();
    L(
      'The head trained on the whole pool with the TRUE verdicts (no label errors, no budget), same epochs, seed 0:',
    );
    L();
    L(
      "| held-out bundles | the runner's head (used by the replay) | before the conditioning fix: raw coordinates, no class weights |",
    );
    L('| --- | ---: | ---: |');
    const cell = (r: CeilingRow | undefined) =>
      r
        ? `${pct(r.balancedAccuracy)} (TP ${r.heldOut.tp}, FN ${r.heldOut.fn}, TN ${r.heldOut.tn}, FP ${r.heldOut.fp})`
        : '—';
    const sets = [...new Set(ceilingRows.map((r) => r.heldOutBundles.join(', ')))];
    for (const set of sets) {
      const of = (p: CeilingRow['procedure']) =>
        ceilingRows.find((r) => r.procedure === p && r.heldOutBundles.join(', ') === set);
      L(`| ${set} | ${cell(of('default'))} | ${cell(of('unconditioned'))} |`);
    }
    L();
  }
  L('## Method');
  L();
  L(
    `- **Data.** The full synthetic dataset (\`npm run synth -- --scale full\`, ${s.dataset.images} images, ${s.dataset.abnormal} abnormal, 12 bundles),`,
  );
  L(
    `  cached in \`${s.dataset.dir}\`. Truth verdicts come from its manifest; nothing but the evaluation reads them.`,
  );
  L(
    `- **Embeddings.** model-runner/src/embeddings: ${s.embeddings.backbone.description}${s.embeddings.backbone.untrained ? ' (untrained: no ImageNet weights offline)' : ''},`,
  );
  L(
    `  input ${s.embeddings.inputSize.replace('x', '×')} (height × width) instead of the paper's 2000×1000 (this 2-core machine), conversion method ${s.embeddings.method}`,
  );
  L(
    `  ${s.embeddings.method === 3 ? "with each image's own 0.01/99.99 % bounds" : `with the paper's global bounds (${s.embeddings.bounds.lo}–${s.embeddings.bounds.hi})`}, ${s.embeddings.flips} flip variants per image, cached on disk.`,
  );
  L(
    `- **Features.** ${featuresInWords(s)} (model-runner/src/evidence/features.ts; \`--features\`, default fused like the runner's PLATINA_FEATURES).`,
  );
  if (s.features?.evidence)
    L(
      `  Evidence ${s.features.evidence.version} (model-runner/src/evidence/extract.ts, all blocks, computed once on the unflipped 16-bit image and shared by its 4 flips) from the file cache \`${s.features.evidence.cacheDir}\`; Platina's order also reads it for the unusualness term.`,
    );
  L(
    `- **Head.** model-runner/src/head (paper section 2.4: ${s.features?.inputDim ?? 512}→1000→512→256→2, SGD momentum 0.9, lr 0.001, batch 16,`,
  );
  L(
    `  random flips via the cached variants, SGD in standardised coordinates, class-balanced cross-entropy: the runner's defaults), trained from scratch with the seed`,
  );
  L(
    `  at every retrain, but **${s.head.epochs} epochs instead of 50** (${s.head.epochs <= 10 ? 'so at lr 0.001 throughout: the first decay, after epoch 10, is never reached' : 'lr × 0.1 every 10 epochs'}):`,
  );
  L(
    '  the replay trains ~50 times per order and seed on a shared 2-core machine. Scores: the unflipped variant, abnormal when P > 0.5.',
  );
  L(`- **Experts.** ${s.panel}`);
  L(
    `- **Consensus.** lib/consensus/rule.ts with votesRequired ${s.consensus.votesRequired}, votesMax ${s.consensus.votesMax} (adaptive overlap): two agreeing votes`,
  );
  L(
    '  decide, a split asks for a third. A label is one vote, so a split image costs 3 labels, an agreed one 2. Every',
  );
  L(
    '  order uses the same rule and the same pre-drawn votes (the k-th vote an image receives is fixed per seed), so',
  );
  L(
    '  with all labels every order has the same training labels and the same final model: the target is one number.',
  );
  L(
    `- **Replay.** Before every vote the order picks one pool image that still needs a vote; after every ${s.retrainEvery} labels`,
  );
  L(
    '  the head is retrained on the consensus verdicts of the resolved images (only once both classes are present;',
  );
  L('  before that the "model" calls everything normal: 50 %) and every image is rescored.');
  L('- **Orders.**');
  L('  - random: images in a seeded random order, each collecting votes until resolved;');
  L('  - uncertainty only: the image whose P(abnormal) is closest to 0.5 under the latest model;');
  L(`  - Platina's priority: ${s.platina}.`);
  L(
    '- **Evaluation.** Balanced accuracy (model-runner/src/cv/metrics.ts) on three held-out bundles that are never',
  );
  L(
    '  labeled, against the TRUE verdicts. Seeds rotate the held-out set: ' +
      s.heldOutSets.map((h: string[]) => h.join(' + ')).join('; ') +
      '.',
  );
  L("  Each seed also changes the panel's draws, the random order and the head's initialisation.");
  L();
  L(
    'Timing per replay (seconds, per seed): ' +
      summary.orders.map((o) => `${o.order} ${o.seconds.map((x) => x.toFixed(0)).join('/')}`).join('; ') +
      '.',
  );
  L();
  return lines.join('\n');
}
