import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { conversionOf, globalBounds, localBounds } from '../../../lib/imaging/conversions.ts';
import type { Conversion, Method, StretchBounds } from '../../../lib/imaging/conversions.ts';
import { createImagingPool } from '../../../lib/imaging/imaging-pool.ts';
import type { Size } from '../../../lib/imaging/resize.ts';
import { extractFcWeights } from '../backbone/load.ts';
import type { Backbone } from '../backbone/load.ts';
import { FileEmbeddingStore, FLIPS } from '../embeddings/cache.ts';
import { Embedder } from '../embeddings/embedder.ts';
import type { EpChoice } from '../onnx/ep.ts';
import { FLIP_VARIANTS, TRAINING_DEFAULTS } from '../head/train.ts';
import type { EmbeddingTable, TrainHeadOptions } from '../head/train.ts';
import { anomalyLabels } from '../head/multilabel.ts';
import { trainAndCrossValidate } from './cross-validate.ts';
import type { CrossValidation } from './metrics.ts';
import { readManifest } from './dataset.ts';
import { withBundleNormalised } from '../evidence/bundle-normalise.ts';
import { evidenceTable } from '../evidence/evidence-table.ts';
import { EVIDENCE_VERSION, selectBlocks } from '../evidence/extract.ts';
import type { EvidenceBlock } from '../evidence/extract.ts';
import { composeFeatures, usesEmbedding, usesEvidence } from '../evidence/features.ts';
import type { FeatureSet } from '../evidence/features.ts';

export interface CvRunOptions {
  dataDir: string;
  methods: Method[];
  inputSize: Size;
  backbone: Backbone;
  ep: EpChoice;
  /** Where embeddings are cached (FileEmbeddingStore). */
  cacheDir: string;
  seed: number;
  training?: Omit<TrainHeadOptions, 'seed' | 'onEpoch' | 'backboneFc'>;
  /** Imaging worker threads (default: the pool's own default). */
  workers?: number;
  /** Head trainings run at once in worker threads (default 1). */
  trainWorkers?: number;
  /** Called after each method with its result (the CLI writes a partial report). */
  onMethodDone?: (result: MethodResult) => void | Promise<void>;
  /** Images per backbone run (each with its 4 flips). */
  imagesPerBatch?: number;
  /** What the head sees (evidence/features.ts); default 'paper' here, the pipeline of Table 1. */
  features?: FeatureSet;
  /** Evidence blocks to keep (ablations); all by default. */
  evidenceBlocks?: readonly EvidenceBlock[];
  /** Add the label-free per-bundle normalised copy of each evidence value (evidence/bundle-normalise.ts); the CLI and the runner do by default. */
  bundleNormalise?: boolean;
  log: (message: string) => void;
}

export interface MethodResult {
  method: Method;
  features: FeatureSet;
  /** Values the head saw per image (512 for the embedding alone). */
  inputDim: number;
  /** With `anomalies` (pooled per-type average precision) when the manifest lists anomaly types. */
  crossValidation: CrossValidation;
  /** Wall seconds: embedding (0 when all cached) and the 12 (or n) fold trainings. */
  embeddingSeconds: number;
  embeddedImages: number;
  cvSeconds: number;
  foldTrainingSeconds: number[];
  /** The anomaly-type head's share of each fold's training (empty without anomaly types). */
  foldAnomalyTrainingSeconds: number[];
}

/** The JSON the CLI writes. `methods[].crossValidation` has the `GET /api/models` crossValidation shape. */
export interface CvRunReport {
  dataset: { dir: string; images: number; abnormal: number; bundles: string[] };
  backbone: { description: string; hash: string; untrained: boolean };
  /** Printed beside every result while the untrained backbone is used. */
  warning?: string;
  inputSize: Size;
  executionProvider: string;
  training: {
    epochs: number;
    batchSize: number;
    learningRate: number;
    decayEvery: number;
    decayFactor: number;
    momentum: number;
    /** Head trained in standardised coordinates (head/standardize.ts). */
    standardize: boolean;
    classWeights: unknown;
    seed: number;
  };
  globalBounds: StretchBounds | null;
  /** When the head saw evidence: its definition, the blocks kept, extraction time. */
  evidence?: {
    version: string;
    blocks: readonly string[];
    bundleNormalise: boolean;
    values: number;
    seconds: number;
    computedImages: number;
  };
  methods: MethodResult[];
  seconds: number;
}

export const UNTRAINED_WARNING =
  "untrained backbone: the offline ResNet-34 has random (seeded) weights, not ImageNet ones; these scores say nothing about the paper's method. Set PLATINA_BACKBONE to a torchvision export (model-runner/export-resnet34.py).";

/**
 * The paper's experiment on a dataset folder: for each conversion method, embed every image × 4 flips (cached),
 * then leave-one-bundle-out cross-validation of the head (section 3.2).
 */
export async function runCrossValidation(o: CvRunOptions): Promise<CvRunReport> {
  const started = performance.now();
  const images = await readManifest(o.dataDir);
  if (images.length === 0) throw new Error(`${o.dataDir}/manifest.csv lists no images`);
  const bundles = images.map((i) => i.bundle);
  const labels = Uint8Array.from(images, (i) => (i.abnormal ? 1 : 0));
  // The type head's truth (head/multilabel.ts): only when the manifest lists the types of every image.
  const anomalies = images.every((i) => i.anomalies)
    ? anomalyLabels(
        images.map((i) => ({ verdict: i.abnormal ? 'abnormal' : 'normal', anomalies: i.anomalies! })),
      )
    : undefined;
  const training = { ...TRAINING_DEFAULTS, ...o.training };
  const backboneFc = extractFcWeights(o.backbone.bytes) ?? null;
  o.log(
    `${images.length} images (${labels.reduce((a, b) => a + b, 0)} abnormal) in ${new Set(bundles).size} bundles; ` +
      `backbone: ${o.backbone.description}${o.backbone.untrained ? ' — UNTRAINED BACKBONE' : ''}; ` +
      `input ${o.inputSize.height}×${o.inputSize.width}; ${o.ep.name}; head fc0 from ${backboneFc ? "the backbone's fc" : 'He init'}`,
  );

  const pool = createImagingPool({ size: o.workers });
  const store = new FileEmbeddingStore(o.cacheDir);
  const embedder = await Embedder.create({
    backbone: o.backbone,
    ep: o.ep,
    inputSize: o.inputSize,
    store,
    pool,
    imagesPerBatch: o.imagesPerBatch,
  });
  try {
    // One file at a time: the full dataset is ~3.4 GB of TIFFs.
    const sha256: string[] = [];
    for (const image of images)
      sha256.push(
        createHash('sha256')
          .update(await readFile(image.path))
          .digest('hex'),
      );
    // Per-image percentiles for methods 2–4 (section 2.3): local bounds per image, global bounds over the dataset.
    let stats: { p0_01: number; p99_99: number }[] = [];
    let bounds: StretchBounds | null = null;
    if (o.methods.some((m) => m !== 1)) {
      const t0 = performance.now();
      const infos = await Promise.all(images.map((i) => pool.run('inspect', { source: { path: i.path } })));
      stats = infos.map((i) => i.stats);
      const depths = new Set(infos.map((i) => i.bitDepth));
      if (depths.size > 1)
        throw new Error('the dataset mixes 8-bit and 16-bit images; method 2 needs one bit depth');
      bounds = globalBounds(stats, infos[0].bitDepth);
      o.log(
        `percentiles of ${images.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
          `global bounds (method 2) Gmin ${bounds?.lo}, Gmax ${bounds?.hi}`,
      );
    }

    const features = o.features ?? 'paper';
    let evidence: { vectors: Float32Array; dim: number } | null = null;
    let evidenceReport: CvRunReport['evidence'];
    if (usesEvidence(features)) {
      const t0 = performance.now();
      const {
        names: all,
        rows,
        computed,
      } = await evidenceTable({
        images,
        sha256,
        cacheDir: o.cacheDir,
        workers: o.workers,
        log: o.log,
      });
      const blocks = o.evidenceBlocks ?? (['residual', 'scattering'] as const);
      const keep = selectBlocks(all, blocks);
      let dim = keep.length;
      let vectors: Float32Array = new Float32Array(images.length * dim);
      rows.forEach((r, i) => keep.forEach((f, j) => (vectors[i * dim + j] = r[f])));
      if (o.bundleNormalise) {
        const n = withBundleNormalised(
          vectors,
          dim,
          bundles,
          keep.map((f) => all[f]),
        );
        ({ vectors, dim } = n);
      }
      evidence = { vectors, dim };
      evidenceReport = {
        version: EVIDENCE_VERSION,
        blocks,
        bundleNormalise: o.bundleNormalise ?? false,
        values: dim,
        seconds: (performance.now() - t0) / 1000,
        computedImages: computed,
      };
      o.log(
        `evidence (${EVIDENCE_VERSION}, ${blocks.join('+')}${o.bundleNormalise ? ', +bundle-normalised' : ''}): ` +
          `${dim} values per image, ${computed} computed in ${evidenceReport.seconds.toFixed(1)} s`,
      );
    }

    const methods: MethodResult[] = [];
    for (const method of o.methods) {
      const conversion = (k: number): Conversion =>
        conversionOf(method, { local: localBounds(stats[k]!), global: () => bounds! });
      const t0 = performance.now();
      let lastLog = 0;
      let embeddedImages = 0;
      const vectors = !usesEmbedding(features)
        ? []
        : await embedder.embed(
            images.map((img, k) => ({
              sha256: sha256[k],
              source: { path: img.path },
              conversion: conversion(k),
            })),
            (p) => {
              embeddedImages = p.done - p.cached;
              const now = performance.now();
              if (now - lastLog > 10_000 || p.done === p.total) {
                lastLog = now;
                o.log(`method ${method}: embedded ${p.done}/${p.total} images (${p.cached} cached)`);
              }
            },
          );
      const embeddingSeconds = (performance.now() - t0) / 1000;
      if (FLIPS.length !== FLIP_VARIANTS) throw new Error('flip variants of the cache and the head disagree');
      let embeddings: { vectors: Float32Array; dim: number } | null = null;
      if (vectors.length > 0) {
        const dim = vectors[0][0].length;
        embeddings = { vectors: new Float32Array(images.length * FLIP_VARIANTS * dim), dim };
        vectors.forEach((four, i) =>
          four.forEach((v, f) => embeddings!.vectors.set(v, (i * FLIP_VARIANTS + f) * dim)),
        );
      }
      const composed = composeFeatures(features, images.length, FLIP_VARIANTS, embeddings, evidence);
      const table: EmbeddingTable = {
        vectors: composed.vectors,
        images: images.length,
        variants: FLIP_VARIANTS,
        dim: composed.dim,
      };

      let lastProgress = 0;
      const cv = await trainAndCrossValidate({
        embeddings: table,
        labels,
        bundles,
        anomalies,
        method,
        seed: o.seed,
        trainFinal: false,
        workers: o.trainWorkers,
        training: { ...o.training, backboneFc: usesEmbedding(features) ? backboneFc : null },
        onProgress: (progress, message) => {
          const now = performance.now();
          if (now - lastProgress > 10_000) {
            lastProgress = now;
            o.log(`method ${method}: ${(progress * 100).toFixed(0)} % — ${message}`);
          }
        },
      });
      const result: MethodResult = {
        method,
        features,
        inputDim: table.dim,
        crossValidation: cv.crossValidation!,
        embeddingSeconds,
        embeddedImages,
        cvSeconds: cv.seconds,
        foldTrainingSeconds: cv.folds.map((f) => f.trainingSeconds),
        foldAnomalyTrainingSeconds: anomalies ? cv.folds.map((f) => f.anomalyTrainingSeconds) : [],
      };
      methods.push(result);
      await o.onMethodDone?.(result);
      o.log(
        `method ${method}: embeddings ${embeddingSeconds.toFixed(1)} s (${embeddedImages} new), ` +
          `cross-validation ${cv.seconds.toFixed(1)} s, overall balanced accuracy ` +
          `${cv.crossValidation!.overall.balancedAccuracy === null ? '—' : (cv.crossValidation!.overall.balancedAccuracy * 100).toFixed(2) + ' %'}`,
      );
    }
    return {
      dataset: {
        dir: o.dataDir,
        images: images.length,
        abnormal: labels.reduce((a, b) => a + b, 0),
        bundles: [...new Set(bundles)],
      },
      backbone: {
        description: o.backbone.description,
        hash: o.backbone.hash,
        untrained: o.backbone.untrained,
      },
      ...(o.backbone.untrained ? { warning: UNTRAINED_WARNING } : {}),
      inputSize: o.inputSize,
      executionProvider: o.ep.name,
      training: {
        epochs: training.epochs,
        batchSize: training.batchSize,
        learningRate: training.learningRate,
        decayEvery: training.decayEvery,
        decayFactor: training.decayFactor,
        momentum: training.momentum,
        standardize: training.standardize,
        classWeights: training.classWeights,
        seed: o.seed,
      },
      globalBounds: bounds,
      ...(evidenceReport ? { evidence: evidenceReport } : {}),
      methods,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await embedder.close();
    await pool.close();
  }
}
