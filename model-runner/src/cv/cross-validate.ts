import { WorkerPool } from '../../../lib/imaging/worker-pool.ts';
import type { EmbeddingTable, TrainHeadOptions } from '../head/train.ts';
import type { HeadParams } from '../head/params.ts';
import { confusion, summarize } from './metrics.ts';
import type { CrossValidation } from './metrics.ts';
import { knownImages, priorBiases, type AnomalyLabels } from '../head/multilabel.ts';
import { scoreAnomalyTypes, type AnomalyCrossValidation } from './average-precision.ts';
import { trainFold } from './folds.ts';
import type { FoldOutcome, FoldTask, FoldTasks } from './folds.ts';

export interface CrossValidateInput {
  /** Embeddings of every image × flip variant for ONE conversion method and backbone. */
  embeddings: EmbeddingTable;
  /** 1 = abnormal, 0 = normal, one per image of `embeddings`. */
  labels: ArrayLike<number>;
  /** The bundle of each image. */
  bundles: readonly string[];
  /**
   * The anomaly types of each image (head/multilabel.ts): when given, every training also trains the type head on
   * the same split, and cross-validation reports pooled per-type average precision.
   */
  anomalies?: AnomalyLabels;
  /** Conversion method 1–4 the embeddings were made with; recorded in the result. */
  method: number;
  seed: number;
  /** Also train the final model on every image (what a model version stores). Default true. */
  trainFinal?: boolean;
  /** Skip cross-validation and only train the final model. Default false. */
  skipCrossValidation?: boolean;
  /** Head training options beyond the seed (epochs, batch size, class weights, backbone fc …). */
  training?: Omit<TrainHeadOptions, 'seed' | 'onEpoch'>;
  /**
   * Worker threads for the trainings (each with a single-threaded ONNX Runtime session); 0 or absent: train in this
   * thread. Results are identical either way. With workers, the calling thread stays free (the API's event loop, when
   * the runner lives in the server process) and progress is reported per finished training instead of per epoch.
   */
  workers?: number;
  /** Progress 0..1 over all trainings, with a message (per epoch, or per training with workers). */
  onProgress?: (progress: number, message: string) => void | Promise<void>;
}

export interface FoldResult {
  bundle: string;
  /** Indices (into the embeddings) of the test images, and their P(abnormal) from the unflipped variant. */
  images: number[];
  pAbnormal: number[];
  /** [images × 11] type probabilities of the test images; null without anomaly labels. */
  pAnomalies: Float32Array | null;
  trainingSeconds: number;
  anomalyTrainingSeconds: number;
}

export interface CrossValidateResult {
  method: number;
  /** null when skipped. */
  /** With `anomalies` (pooled per-type average precision) when anomaly labels were given. */
  crossValidation: CrossValidation | null;
  folds: FoldResult[];
  /** Trained on all images; null when `trainFinal` is false. */
  model: HeadParams | null;
  /** The anomaly-type head trained on all images; null when `trainFinal` is false or without anomaly labels. */
  anomalyModel: HeadParams | null;
  /** Decision rule: abnormal when P(abnormal) > threshold (argmax of the two-way softmax). */
  threshold: number;
  seconds: number;
}

export const DECISION_THRESHOLD = 0.5;

/**
 * Leave-one-bundle-out cross-validation (paper section 3.2): for each bundle, train the head on the other bundles
 * and test on it. Test images are scored unflipped (variant 0) — the paper flips only as training augmentation.
 * Every fold trains from the same seed, so folds differ only in their data. Bundles are taken in sorted order.
 */
export async function trainAndCrossValidate(input: CrossValidateInput): Promise<CrossValidateResult> {
  const started = performance.now();
  const { embeddings, labels, bundles } = input;
  if (bundles.length !== embeddings.images || labels.length !== embeddings.images)
    throw new Error(
      `${embeddings.images} embedded images, ${labels.length} labels, ${bundles.length} bundles`,
    );
  if (input.anomalies && input.anomalies.known.length !== embeddings.images)
    throw new Error(
      `${embeddings.images} embedded images, ${input.anomalies.known.length} anomaly label sets`,
    );
  const anomalies = input.anomalies ? { anomalies: input.anomalies } : {};
  const names = [...new Set(bundles)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const doCv = !input.skipCrossValidation;
  const doFinal = input.trainFinal ?? true;
  if (doCv && names.length < 2) throw new Error('leave-one-bundle-out needs at least two bundles');
  const epochs = input.training?.epochs ?? 50;
  const workers = Math.max(0, Math.floor(input.workers ?? 0));
  const options = {
    ...input.training,
    seed: input.seed,
    ...(workers > 0 ? { threads: input.training?.threads ?? 1 } : {}),
  };
  const labels8 = Uint8Array.from({ length: labels.length }, (_, i) => labels[i]);
  const tasks: (FoldTask & { what: string })[] = [];
  const testSets: { bundle: string; images: number[] }[] = [];
  if (doCv) {
    for (const bundle of names) {
      const test: number[] = [];
      const rest: number[] = [];
      bundles.forEach((b, i) => (b === bundle ? test : rest).push(i));
      testSets.push({ bundle, images: test });
      tasks.push({
        what: `fold ${bundle}`,
        table: embeddings,
        labels: labels8,
        train: rest,
        test,
        options,
        ...anomalies,
      });
    }
  }
  if (doFinal) {
    const all = Array.from({ length: embeddings.images }, (_, i) => i);
    tasks.push({
      what: 'final model',
      table: embeddings,
      labels: labels8,
      train: all,
      test: [],
      options,
      keepParams: true,
      ...anomalies,
    });
  }

  let done = 0;
  const outcomes: FoldOutcome[] = [];
  if (workers === 0) {
    for (const { what, ...task } of tasks) {
      outcomes.push(
        await trainFold(task, (r) =>
          input.onProgress?.(
            (done + r.epoch / r.epochs) / tasks.length,
            `${what}: epoch ${r.epoch}/${epochs}, loss ${r.loss.toFixed(4)}`,
          ),
        ),
      );
      done++;
    }
  } else {
    const pool = new WorkerPool<FoldTasks>({
      entry: new URL('./fold.worker.ts', import.meta.url),
      size: workers,
    });
    try {
      outcomes.push(
        ...(await Promise.all(
          tasks.map(async ({ what, ...task }) => {
            const outcome = await pool.run('trainFold', task);
            done++;
            await input.onProgress?.(done / tasks.length, `${what} trained (${done}/${tasks.length})`);
            return outcome;
          }),
        )),
      );
    } finally {
      await pool.close();
    }
  }
  const folds: FoldResult[] = testSets.map((t, k) => ({
    bundle: t.bundle,
    images: t.images,
    pAbnormal: outcomes[k].pAbnormal,
    pAnomalies: outcomes[k].pAnomalies,
    trainingSeconds: outcomes[k].trainingSeconds,
    anomalyTrainingSeconds: outcomes[k].anomalyTrainingSeconds,
  }));
  const model: HeadParams | null = doFinal ? outcomes[outcomes.length - 1].params : null;
  const anomalyModel: HeadParams | null = doFinal ? outcomes[outcomes.length - 1].anomalyParams : null;
  await input.onProgress?.(1, 'done');

  const crossValidation = doCv
    ? summarize(
        folds.map((f) => ({
          bundle: f.bundle,
          ...confusion(
            f.images.map((i) => labels[i]),
            f.pAbnormal.map((p) => (p > DECISION_THRESHOLD ? 1 : 0)),
          ),
        })),
      )
    : null;
  const typeScores = doCv && input.anomalies ? poolAnomalyScores(folds, input.anomalies) : null;
  return {
    method: input.method,
    crossValidation:
      crossValidation && typeScores ? { ...crossValidation, anomalies: typeScores } : crossValidation,
    folds,
    model,
    anomalyModel,
    threshold: DECISION_THRESHOLD,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Per-type average precision over the held-out scores of every fold, pooled (average-precision.ts), beside that of
 * the prior-only model: each held-out image scored with its fold's training share of the type (the head's initial
 * output bias, multilabel.ts). A fold whose training images have no known types has no type scores; its test
 * images then count as unknown.
 */
function poolAnomalyScores(folds: readonly FoldResult[], labels: AnomalyLabels): AnomalyCrossValidation {
  const k = labels.targets.length / labels.known.length;
  const images = folds.flatMap((f) => f.images);
  const truth = new Uint8Array(images.length * k);
  const scores = new Float32Array(images.length * k);
  const priors = new Float32Array(images.length * k);
  const known = new Uint8Array(images.length);
  let row = 0;
  for (const f of folds) {
    const held = new Set(f.images);
    const train = knownImages(
      labels,
      Array.from({ length: labels.known.length }, (_, i) => i).filter((i) => !held.has(i)),
    );
    const prior = priorBiases(labels, train);
    f.images.forEach((image, j) => {
      truth.set(labels.targets.subarray(image * k, (image + 1) * k), row * k);
      priors.set(prior, row * k);
      if (f.pAnomalies) {
        scores.set(f.pAnomalies.subarray(j * k, (j + 1) * k), row * k);
        known[row] = labels.known[image];
      }
      row++;
    });
  }
  return scoreAnomalyTypes(truth, scores, priors, known);
}
