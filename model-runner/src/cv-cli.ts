/**
 * `npm run cv -- --method 1|2|3|4|all --data DIR [--size HxW] [--out file.json] [--seed N] [--epochs N]
 *  [--batch N] [--class-weights balanced|none] [--standardize yes|no] [--cache DIR] [--workers N] [--train-workers N] [--images-per-batch N]`
 *  `[--features paper|evidence|fused] [--blocks residual,scattering] [--bundle-normalise yes|no]`
 *
 * The paper's experiment (sections 2.3–3.2) on a dataset folder with `manifest.csv` (e.g. from `npm run synth`):
 * embeds every image × 4 flips per method (cached), runs leave-one-bundle-out cross-validation of the head,
 * prints Table 1 (rows = bundles + overall, columns = methods, balanced accuracy %) and writes the JSON report.
 * When the manifest lists anomaly types, the type head is cross-validated alongside and a second table gives its
 * pooled average precision per type (`methods[].crossValidation.anomalies` in the JSON).
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { METHODS } from '../../lib/imaging/conversions.ts';
import type { Method } from '../../lib/imaging/conversions.ts';
import { loadBackbone, parseInputSize } from './backbone/load.ts';
import { selectExecutionProvider } from './onnx/ep.ts';
import { runCrossValidation, UNTRAINED_WARNING } from './cv/run-cv.ts';
import { formatAnomalyTable, formatTable1 } from './cv/table.ts';
import { EVIDENCE_BLOCKS, type EvidenceBlock } from './evidence/extract.ts';
import { parseFeatureSet } from './evidence/features.ts';

/**
 * Input size when neither --size nor PLATINA_INPUT_SIZE is given and no GPU is available. ResNet-34 costs about
 * 150 GFLOP per image at the paper's 2000×1000; 4 methods × 714 images × 4 flips is 11 424 embeddings, which a
 * 2-core CPU cannot afford at that size. 256×128 keeps the 2:1 aspect ratio at 1/61 of the pixels.
 */
export const CPU_DEFAULT_SIZE = '256x128';

const USAGE =
  'usage: npm run cv -- --method 1|2|3|4|all --data DIR [--size HxW] [--out file.json] [--seed N] [--epochs N] [--batch N] [--class-weights balanced|none] [--standardize yes|no] [--cache DIR] [--workers N] [--train-workers N] [--images-per-batch N] [--features paper|evidence|fused] [--blocks residual,scattering] [--bundle-normalise yes|no]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      method: { type: 'string', default: 'all' },
      data: { type: 'string' },
      size: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '0' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      'class-weights': { type: 'string' },
      standardize: { type: 'string' },
      cache: { type: 'string' },
      workers: { type: 'string' },
      'train-workers': { type: 'string' },
      'images-per-batch': { type: 'string' },
      features: { type: 'string', default: 'paper' },
      blocks: { type: 'string' },
      'bundle-normalise': { type: 'string', default: 'yes' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.data) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const methods: Method[] =
    values.method === 'all'
      ? [...METHODS]
      : values.method.split(',').map((m) => {
          const n = Number(m);
          if (!(METHODS as readonly number[]).includes(n))
            throw new Error(`--method ${m}: expected 1, 2, 3, 4 or all`);
          return n as Method;
        });
  const int = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} ${raw}: expected a non-negative integer`);
    return n;
  };
  const log = (m: string) => console.error(`[cv] ${m}`);
  const ep = await selectExecutionProvider(process.env, log);
  const sizeRaw =
    values.size ?? process.env.PLATINA_INPUT_SIZE ?? (ep.name === 'cpu' ? CPU_DEFAULT_SIZE : undefined);
  if (!values.size && !process.env.PLATINA_INPUT_SIZE && ep.name === 'cpu')
    log(
      `no --size or PLATINA_INPUT_SIZE on the cpu: using ${CPU_DEFAULT_SIZE} (the paper's 2000x1000 costs ~150 GFLOP an image)`,
    );
  const inputSize = parseInputSize(sizeRaw);
  const backbone = await loadBackbone({
    ...process.env,
    PLATINA_INPUT_SIZE: `${inputSize.height}x${inputSize.width}`,
  });
  if (backbone.untrained) log(UNTRAINED_WARNING);
  // Both default to the head's defaults (TRAINING_DEFAULTS); "none" / "no" reproduce the earlier procedure.
  const choice = <T>(name: string, raw: string | undefined, options: Record<string, T>): T | undefined => {
    if (raw === undefined) return undefined;
    if (!(raw in options)) throw new Error(`--${name} ${raw}: expected ${Object.keys(options).join(' or ')}`);
    return options[raw];
  };
  const classWeights = choice('class-weights', values['class-weights'], {
    balanced: 'balanced' as const,
    none: null,
  });
  const standardize = choice('standardize', values.standardize, { yes: true, no: false });
  // Table 1 is the paper's pipeline unless asked otherwise: --features defaults to paper here (the runner's
  // PLATINA_FEATURES defaults to fused).
  const features = parseFeatureSet(values.features, '--features');
  const evidenceBlocks = values.blocks?.split(',').map((b) => {
    if (!(EVIDENCE_BLOCKS as readonly string[]).includes(b))
      throw new Error(`--blocks ${b}: expected ${EVIDENCE_BLOCKS.join(', ')}`);
    return b as EvidenceBlock;
  });
  const bundleNormalise = choice('bundle-normalise', values['bundle-normalise'], { yes: true, no: false });

  const done: unknown[] = [];
  const report = await runCrossValidation({
    dataDir: path.resolve(values.data),
    methods,
    inputSize,
    backbone,
    ep,
    cacheDir: path.resolve(values.cache ?? path.join(values.data, '.embeddings')),
    seed: int('seed', values.seed) ?? 0,
    training: {
      ...(values.epochs ? { epochs: int('epochs', values.epochs) } : {}),
      ...(values.batch ? { batchSize: int('batch', values.batch) } : {}),
      ...(classWeights !== undefined ? { classWeights } : {}),
      ...(standardize !== undefined ? { standardize } : {}),
    },
    workers: int('workers', values.workers),
    imagesPerBatch: int('images-per-batch', values['images-per-batch']),
    features,
    evidenceBlocks,
    bundleNormalise,
    // Folds are independent: one per core, each with a single-threaded session (results identical to serial).
    trainWorkers: int('train-workers', values['train-workers']) ?? availableParallelism(),
    log,
    onMethodDone: async (m) => {
      done.push(m);
      if (values.out)
        await writeFile(values.out, JSON.stringify({ partial: true, methods: done }, null, 2) + '\n');
    },
  });

  const untrained = backbone.untrained ? ' — UNTRAINED BACKBONE' : '';
  console.log(
    `\nTable 1 (paper section 3.2): leave-one-bundle-out balanced accuracy (%), abnormal = positive, overall from pooled counts${untrained}`,
  );
  console.log(
    `features: ${features}${report.evidence ? ` (${report.evidence.version}: ${report.evidence.blocks.join('+')}${report.evidence.bundleNormalise ? ', +bundle-normalised' : ''}, ${report.evidence.values} values)` : ''}; ` +
      `${report.dataset.images} images, ${report.dataset.bundles.length} bundles; backbone ${backbone.description}; ` +
      `input ${inputSize.height}×${inputSize.width}; ${report.training.epochs} epochs, batch ${report.training.batchSize}, seed ${report.training.seed}\n`,
  );
  console.log(formatTable1(report.methods));
  const types = formatAnomalyTable(report.methods);
  if (types) {
    console.log(
      `\nAnomaly types (issue 7): leave-one-bundle-out average precision (%) of the type head, pooled over the held-out images${untrained}`,
    );
    console.log(types);
  }
  if (backbone.untrained) console.log(`\n${UNTRAINED_WARNING}`);
  console.log(
    `\ntime: ${report.seconds.toFixed(1)} s in all; ` +
      report.methods
        .map(
          (m) =>
            `method ${m.method}: embeddings ${m.embeddingSeconds.toFixed(1)} s, CV ${m.cvSeconds.toFixed(1)} s`,
        )
        .join('; '),
  );
  if (values.out) {
    await writeFile(values.out, JSON.stringify(report, null, 2) + '\n');
    console.log(`wrote ${values.out}`);
  }
}

main().catch((err: unknown) => {
  console.error(`cv: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
