import { enqueue, stillHeld } from '../../../lib/jobs/queue.ts';
import { TrainPayload } from '../../../lib/jobs/payloads.ts';
import {
  JobAbandoned,
  PermanentJobError,
  type JobContext,
  type JobHandler,
} from '../../../lib/jobs/worker.ts';
import type { Method } from '../../../lib/imaging/conversions.ts';
import { ANOMALY_CODES } from '../../../lib/anomaly-types.ts';
import type { CrossValidation } from '../cv/metrics.ts';
import { ANOMALY_HEAD_DIMS, anomalyLabels } from '../head/multilabel.ts';
import { FLIP_VARIANTS, TRAINING_DEFAULTS, type EmbeddingTable } from '../head/train.ts';
import { EVIDENCE_VERSION } from '../evidence/extract.ts';
import { composeFeatures, usesEmbedding, usesEvidence, type FeatureSet } from '../evidence/features.ts';
import { bundleNormalisedEvidence } from './bundle-evidence.ts';
import { encodeHead } from '../../../lib/model/head-codec.ts';
import { readDatasetBounds, storedBounds } from '../../../lib/dataset/bounds.ts';
import * as repo from './repository.ts';
import type { RunnerResources } from './resources.ts';

/** What a model version records about how it was made (with the label snapshot hash: reproducible). */
export interface TrainingSettings {
  method: Method;
  inputSize: string;
  backboneHash: string;
  epochs: number;
  seed: number;
  batchSize: number;
  learningRate: number;
  decayEvery: number;
  decayFactor: number;
  momentum: number;
  /** The head's conditioning (head/train.ts TRAINING_DEFAULTS): versions trained before it lack these keys. */
  standardize: boolean;
  classWeights: typeof TRAINING_DEFAULTS.classWeights;
  /** Layer widths of the anomaly-type head trained beside it (head/multilabel.ts), e.g. "512x256x11". */
  anomalyHead: string;
}

/** Two versions are comparable by their numbers alone only when everything but the labels is equal. */
export function sameSettings(a: unknown, b: TrainingSettings): boolean {
  const x = a as Partial<TrainingSettings>;
  return (Object.keys(b) as (keyof TrainingSettings)[]).every((k) => x[k] === b[k]);
}

function tableOf(vectors: Map<string, Float32Array[]>, labels: readonly repo.LabeledImage[]): EmbeddingTable {
  const dim = 512;
  const out = new Float32Array(labels.length * FLIP_VARIANTS * dim);
  labels.forEach((l, i) => {
    const v = vectors.get(l.sha256);
    if (!v) throw new Error(`no embeddings for image ${l.id}`);
    v.forEach((flip, f) => out.set(flip, (i * FLIP_VARIANTS + f) * dim));
  });
  return { vectors: out, images: labels.length, variants: FLIP_VARIANTS, dim };
}

/** The features a version's head saw: its `features` column, and the evidence definition when used. */
export function featuresOf(v: { features: string; evidence_version: string | null }): {
  features: FeatureSet;
  evidenceVersion: string | null;
} {
  const f = (['paper', 'evidence', 'fused'] as const).find((x) => x === v.features) ?? 'paper';
  return { features: f, evidenceVersion: usesEvidence(f) ? v.evidence_version : null };
}

export function trainHandler(res: RunnerResources): JobHandler<TrainPayload> {
  return { schema: TrainPayload, run: (ctx) => train(res, ctx) };
}

/**
 * The `train` job (issue 6 step 6, issue 7): gather the resolved labels, embed what is not cached, train
 * the paper's head and the anomaly-type head beside it (with leave-one-bundle-out cross-validation when asked, or
 * when needed to compare with the active version), decide activation, and insert the version — both heads in
 * `head_weights`, the per-type average precision in `cross_validation.anomalies` — in ONE transaction at the end. A runner
 * killed before that commit leaves no version; the transaction first checks that this runner still holds
 * the job, so a runner swept as dead cannot add a second version when it comes back.
 *
 * Activation (issue 7): the first version; or a forced one; or one whose settings equal the active
 * version's (the same procedure on the current labels: cross-validating both on these labels would give
 * the same numbers); otherwise the active version's settings are cross-validated on the SAME labels and the
 * new version wins when its pooled balanced accuracy is not worse. An activated version is scored first
 * (a `score` job that activates it once every image has its prediction), so the queue switches from one
 * version's priorities to the next in one step.
 */
async function train(res: RunnerResources, ctx: JobContext<TrainPayload>) {
  const p = ctx.payload;
  const started = performance.now();
  res.bindAbort(ctx.signal);
  const report = (q: number, m: string) => void ctx.progress(q, m).catch(() => {}); // abort: see bindAbort
  await ctx.progress(0, 'gathering resolved labels');
  const labels = await repo.resolvedImages(res.db);
  const abnormal = labels.filter((l) => l.verdict === 'abnormal').length;
  const normal = labels.length - abnormal;
  if (normal === 0 || abnormal === 0) {
    throw new PermanentJobError(
      `training needs at least one normal and one abnormal resolved image; there are ${normal} normal and ${abnormal} abnormal`,
    );
  }
  const snapshot = repo.labelSnapshotHash(labels);
  const bundles = labels.map((l) => l.bundle);
  const bundleCount = new Set(bundles).size;
  // The bounds in force now, recorded with the version: the screens compare them with later ones (issue 15).
  const boundsNow = await readDatasetBounds(res.db);
  const bounds = new Map(boundsNow.map((g) => [g.bitDepth, g.inForce]));
  const backbone = await res.backbone();
  const y = Uint8Array.from(labels, (l) => (l.verdict === 'abnormal' ? 1 : 0));

  const features = res.features;
  const evidenceVersion = usesEvidence(features) ? EVIDENCE_VERSION : null;
  // Evidence first: it needs no backbone, and the `evidence` job has usually stored it already.
  const evidence = usesEvidence(features)
    ? await bundleNormalisedEvidence(res, labels, (d, t) =>
        ctx.progress((0.1 * d) / t, `evidence ${d}/${t} images of the labeled bundles`),
      )
    : null;
  /** The head's input for a conversion method: [embedding | evidence] per PLATINA_FEATURES (features.ts). */
  const embedTable = async (method: Method, from: number, to: number): Promise<EmbeddingTable> => {
    const e = usesEmbedding(features)
      ? tableOf(
          await res.embeddings(labels, method, bounds, {
            onProgress: (d, t) =>
              ctx.progress(from + ((to - from) * d) / t, `embedding ${d}/${t} labeled images`),
          }),
          labels,
        )
      : null;
    const composed = composeFeatures(features, labels.length, FLIP_VARIANTS, e, evidence);
    return { vectors: composed.vectors, images: labels.length, variants: FLIP_VARIANTS, dim: composed.dim };
  };

  const settings: TrainingSettings = {
    method: p.method,
    inputSize: res.inputSizeKey,
    backboneHash: backbone.hash,
    epochs: p.epochs ?? res.defaultEpochs,
    seed: p.seed,
    batchSize: TRAINING_DEFAULTS.batchSize,
    learningRate: TRAINING_DEFAULTS.learningRate,
    decayEvery: TRAINING_DEFAULTS.decayEvery,
    decayFactor: TRAINING_DEFAULTS.decayFactor,
    momentum: TRAINING_DEFAULTS.momentum,
    standardize: TRAINING_DEFAULTS.standardize,
    classWeights: TRAINING_DEFAULTS.classWeights,
    anomalyHead: ANOMALY_HEAD_DIMS.join('x'),
  };
  // Promotion compares like with like (issue 13): the baseline is the active version when it saw the same
  // features (and evidence definition); otherwise the latest version that did. A candidate with no such
  // baseline is the first of its feature set: PLATINA_FEATURES is the operator's choice, and numbers of heads
  // on different inputs are never weighed against each other here.
  const current = await repo.activeVersion(res.db);
  const like = (v: repo.ModelVersionRow) => {
    const f = featuresOf(v);
    return f.features === features && f.evidenceVersion === evidenceVersion;
  };
  const active =
    current && like(current) ? current : await repo.latestVersionWith(res.db, features, evidenceVersion);
  const same = active !== undefined && sameSettings(active.settings, settings);
  const compareNeeded = active !== undefined && !same && !p.force;
  const doCv = (p.crossValidate || compareNeeded) && bundleCount >= 2;

  const table = await embedTable(p.method, 0.1, 0.3);
  const trainShare = compareNeeded && doCv ? 0.35 : 0.65;
  const result = await res.crossValidate(
    {
      embeddings: table,
      labels: y,
      bundles,
      // The type head learns the consensus anomaly sets (head/multilabel.ts says which images count).
      anomalies: anomalyLabels(labels),
      method: p.method,
      seed: p.seed,
      skipCrossValidation: !doCv,
      training: { epochs: settings.epochs },
    },
    (q, m) => report(0.3 + trainShare * q, m),
  );
  const cv: CrossValidation | null = result.crossValidation;

  let activate: string | null = null;
  let comparison: { active: number | null; candidate: number | null } | null = null;
  if (!current) activate = 'first model';
  else if (!active)
    activate = `first version with features ${features}${evidenceVersion ? ` (${evidenceVersion})` : ''}; the active version ${current.id} saw ${featuresOf(current).features}: not compared across feature sets`;
  else if (p.force) activate = `forced (job ${ctx.job.id})`;
  else if (same)
    activate = `same settings as version ${active.id}, retrained on ${labels.length} labels (was ${active.trained_on_images})`;
  else if (!doCv) {
    ctx.log.info('one bundle only: cannot cross-validate, so the active version stays');
  } else {
    // The active version's procedure, cross-validated on the same labels: a fair comparison.
    const a = active.settings as TrainingSettings;
    const usable = a.backboneHash === backbone.hash && a.inputSize === res.inputSizeKey;
    if (!usable) {
      activate = `the active version ${active.id} used another backbone or input size; this runner cannot re-evaluate it`;
    } else {
      const activeTable = a.method === p.method ? table : await embedTable(a.method, 0.65, 0.7);
      const theirs = await res.crossValidate(
        {
          embeddings: activeTable,
          labels: y,
          bundles,
          method: a.method,
          seed: a.seed,
          trainFinal: false,
          // Versions from before the head's conditioning have no such keys: they trained raw, unweighted.
          training: {
            epochs: a.epochs,
            standardize: a.standardize ?? false,
            classWeights: a.classWeights ?? null,
          },
        },
        (q, m) => report(0.7 + 0.25 * q, `active version's settings: ${m}`),
      );
      comparison = {
        active: theirs.crossValidation?.overall.balancedAccuracy ?? null,
        candidate: cv?.overall.balancedAccuracy ?? null,
      };
      if (
        comparison.candidate !== null &&
        (comparison.active === null || comparison.candidate >= comparison.active)
      )
        activate = `balanced accuracy ${comparison.candidate.toFixed(3)} ≥ ${comparison.active?.toFixed(3) ?? 'n/a'} of version ${active.id}'s settings on the same ${labels.length} labels`;
    }
  }

  await ctx.progress(0.97, 'storing the model version');
  const version = await res.db.transaction().execute(async (tx) => {
    if (!(await stillHeld(tx, ctx.job.id, ctx.workerId)))
      throw new JobAbandoned('this runner no longer holds the job');
    const id = await repo.insertVersion(tx, {
      method: p.method,
      backbone_hash: backbone.hash,
      backbone_kind: backbone.untrained ? 'untrained' : 'custom',
      input_height: res.inputSize.height,
      input_width: res.inputSize.width,
      settings: { ...settings, auto: p.auto, comparison, baseline: active?.id ?? null },
      features,
      evidence_version: evidenceVersion,
      global_bounds: storedBounds(boundsNow),
      label_snapshot_hash: snapshot,
      trained_on_images: labels.length,
      trained_on_bundles: bundleCount,
      cross_validation: cv,
      head_weights: encodeHead(
        result.model!,
        result.anomalyModel ? { codes: ANOMALY_CODES, params: result.anomalyModel } : null,
      ),
      job_id: ctx.job.id,
    });
    if (activate) await enqueue(tx, 'score', { modelVersion: id, activate });
    return id;
  });
  return {
    modelVersion: version,
    activation: activate ?? 'not activated: worse than the active version on the same labels',
    labels: labels.length,
    bundles: bundleCount,
    balancedAccuracy: cv?.overall.balancedAccuracy ?? null,
    features,
    comparison,
    seconds: (performance.now() - started) / 1000,
  };
}
