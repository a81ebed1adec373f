import { ANOMALY_CODES, type AnomalyCode } from '../../../lib/anomaly-types.ts';
import type { Verdict } from '../../../lib/db/schema.ts';
import { initHead, type HeadParams } from './params.ts';
import { gatherVariant, predictHead, trainOnTargets } from './train.ts';
import type { EmbeddingTable, HeadTargets, TrainedHead, TrainingScheduleOptions } from './train.ts';

/**
 * The anomaly-type head (issue 7, "pre-labels"): one sigmoid per anomaly type of the paper (section 2.2, the 11 types
 * in lib/anomaly-types.ts order) on the same cached embeddings as the normal/abnormal head, trained with binary
 * cross-entropy per type (graphs.ts `sigmoid`) by the same training loop, schedule and seed.
 *
 * Shape: 512 → 256 → 11 with ReLU. The paper has no type classifier; one hidden layer keeps it at ~0.13 M parameters
 * (the paper's head has 1.2 M) because each type has only tens of positive images (the synthetic set: 18–75), and
 * it costs ~10 % of the binary head's training time, which the retraining latency target (15 s) cannot spare twice.
 */
export const ANOMALY_HEAD_DIMS: readonly number[] = [512, 256, ANOMALY_CODES.length];

/** Per image, what the type head learns from it. */
export interface AnomalyLabels {
  /** images × 11 (ANOMALY_CODES order): 1 when the type is in the image's label set. */
  targets: Uint8Array;
  /** 1: the image trains and evaluates the head; 0: its types are unknown (see {@link anomalyLabels}). */
  known: Uint8Array;
}

/**
 * The type head's targets from labels (consensus verdict and anomaly set, or a data set's truth):
 * - every image's target row is its anomaly set, whatever the verdict. A normal image usually has an empty set
 *   (all-zero targets: a negative for every type); one with minor findings (the paper's figure 2d, which the API
 *   accepts) is a positive for those types, because the pre-label says which types an image SHOWS. Zeroing them
 *   would contradict abnormal images that list the same faint anomaly beside their severe one — in the synthetic
 *   data 230 of 562 normal images carry a listed minor finding, more than half of all type occurrences.
 * - an abnormal image whose label names no type is left out (known = 0) of training and of the per-type scores: the
 *   experts saw some anomaly without saying which, so no type can be called absent.
 */
export function anomalyLabels(
  rows: readonly { verdict: Verdict; anomalies: readonly string[] }[],
): AnomalyLabels {
  const k = ANOMALY_CODES.length;
  const targets = new Uint8Array(rows.length * k);
  const known = new Uint8Array(rows.length);
  rows.forEach((row, i) => {
    known[i] = row.verdict === 'abnormal' && row.anomalies.length === 0 ? 0 : 1;
    for (const code of row.anomalies) {
      const t = ANOMALY_CODES.indexOf(code as AnomalyCode);
      if (t < 0) throw new Error(`image ${i}: unknown anomaly type "${code}"`);
      targets[i * k + t] = 1;
    }
  });
  return { targets, known };
}

/**
 * Initial output biases log(q / (1 − q)) with q each type's smoothed share of positives among the training images,
 * (positives + 0.5) / (n + 1): the untrained head then predicts each type's base rate instead of 0.5. Types are rare
 * (a few %), so starting at 0.5 would spend the first epochs — at the paper's small learning rate, most of the
 * schedule — pulling every output down, and a short run would pre-select types at random (the form pre-selects
 * p > 0.5). The prior bias of Lin et al., "Focal loss for dense object detection" (ICCV 2017), section 3.3.
 */
export function priorBiases(labels: AnomalyLabels, indices: ArrayLike<number>): Float32Array {
  const k = ANOMALY_CODES.length;
  const positives = new Float64Array(k);
  for (let j = 0; j < indices.length; j++)
    for (let t = 0; t < k; t++) positives[t] += labels.targets[indices[j] * k + t];
  return Float32Array.from(positives, (p) => {
    const q = (p + 0.5) / (indices.length + 1);
    return Math.log(q / (1 - q));
  });
}

/** The training images of `indices` whose types are known. */
export function knownImages(labels: AnomalyLabels, indices: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let j = 0; j < indices.length; j++) if (labels.known[indices[j]]) out.push(indices[j]);
  return out;
}

/**
 * Trains the type head on the images of `indices` whose types are known (the others are skipped), with the
 * binary head's schedule and seed. Returns null when none is known.
 */
export async function trainAnomalyHead(
  table: EmbeddingTable,
  labels: AnomalyLabels,
  indices: ArrayLike<number>,
  options: TrainingScheduleOptions,
): Promise<TrainedHead | null> {
  const train = knownImages(labels, indices);
  if (train.length === 0) return null;
  const k = ANOMALY_CODES.length;
  const targets: HeadTargets = {
    output: 'sigmoid',
    write: (image, row) => {
      for (let t = 0; t < k; t++) row[t] = labels.targets[image * k + t];
    },
    weight: () => 1,
  };
  const initial = initHead({ seed: options.seed, dims: [table.dim, ...ANOMALY_HEAD_DIMS.slice(1)] });
  initial[initial.length - 1].bias.set(priorBiases(labels, train));
  return trainOnTargets(table, targets, train, initial, options);
}

/** P(type) of every image of `images` (default: all), [images × 11] row-major, from the unflipped embeddings. */
export async function scoreAnomalies(
  head: HeadParams,
  embeddings: EmbeddingTable,
  images: readonly number[] = Array.from({ length: embeddings.images }, (_, i) => i),
): Promise<Float32Array> {
  const outputs = head[head.length - 1].outputs;
  if (outputs !== ANOMALY_CODES.length)
    throw new Error(`the anomaly head has ${outputs} outputs; there are ${ANOMALY_CODES.length} types`);
  return predictHead(head, gatherVariant(embeddings, images), 'sigmoid');
}

/** One image's row of type probabilities as the API's `anomalies: [{code, p}]`, in the paper's order. */
export function anomalyList(p: ArrayLike<number>, image: number): { code: AnomalyCode; p: number }[] {
  const k = ANOMALY_CODES.length;
  return ANOMALY_CODES.map((code, t) => ({ code, p: p[image * k + t] }));
}
