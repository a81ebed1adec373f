import { gatherVariant, predictHead, trainHead } from '../head/train.ts';
import type { EmbeddingTable, TrainHeadOptions } from '../head/train.ts';
import type { HeadParams } from '../head/params.ts';
import { confusion, summarize } from './metrics.ts';
import type { CrossValidation } from './metrics.ts';

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
  /** Progress 0..1 over all trainings, with a message; called once per epoch. */
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
  const trainings = (doCv ? names.length : 0) + (doFinal ? 1 : 0);
  let done = 0;
  const train = (indices: number[], what: string) =>
    trainHead(embeddings, labels, indices, {
      ...input.training,
      seed: input.seed,
      onEpoch: (r) =>
        input.onProgress?.(
          (done + r.epoch / r.epochs) / trainings,
          `${what}: epoch ${r.epoch}/${epochs}, loss ${r.loss.toFixed(4)}`,
        ),
    });

  const folds: FoldResult[] = [];
  if (doCv) {
    for (const bundle of names) {
      const test: number[] = [];
      const rest: number[] = [];
      bundles.forEach((b, i) => (b === bundle ? test : rest).push(i));
      const t0 = performance.now();
      const { params } = await train(rest, `fold ${bundle}`);
      const trainingSeconds = (performance.now() - t0) / 1000;
      const p = await predictHead(params, gatherVariant(embeddings, test));
      folds.push({ bundle, images: test, pAbnormal: test.map((_, k) => p[2 * k + 1]), trainingSeconds });
      done++;
    }
  }
  let model: HeadParams | null = null;
  if (doFinal) {
    model = (
      await train(
        Array.from({ length: embeddings.images }, (_, i) => i),
        'final model',
      )
    ).params;
    done++;
  }
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
