import { WorkerPool } from '../../../lib/imaging/worker-pool.ts';
import type { EmbeddingTable, TrainHeadOptions } from '../head/train.ts';
import type { HeadParams } from '../head/params.ts';
import { confusion, summarize } from './metrics.ts';
import type { CrossValidation } from './metrics.ts';
import { trainFold } from './folds.ts';
import type { FoldOutcome, FoldTask, FoldTasks } from './folds.ts';

export interface CrossValidateInput {
  /** Embeddings of every image × flip variant for ONE conversion method and backbone. */
  embeddings: EmbeddingTable;
  /** 1 = abnormal, 0 = normal, one per image of `embeddings`. */
  labels: ArrayLike<number>;
  /** The bundle of each image. */
  bundles: readonly string[];
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
  trainingSeconds: number;
}

export interface CrossValidateResult {
  method: number;
  /** null when skipped. */
  crossValidation: CrossValidation | null;
  folds: FoldResult[];
  /** Trained on all images; null when `trainFinal` is false. */
  model: HeadParams | null;
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
    trainingSeconds: outcomes[k].trainingSeconds,
  }));
  const model: HeadParams | null = doFinal ? outcomes[outcomes.length - 1].params : null;
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
  return {
    method: input.method,
    crossValidation,
    folds,
    model,
    threshold: DECISION_THRESHOLD,
    seconds: (performance.now() - started) / 1000,
  };
}
