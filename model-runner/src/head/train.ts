import ort from 'onnxruntime-node';
import {
  buildInferenceGraph,
  buildTrainingGraph,
  INFERENCE_INPUT,
  INFERENCE_OUTPUT,
  nextName,
  stateNames,
  TRAIN_INPUTS,
  TRAIN_LOSS,
} from './graphs.ts';
import type { HeadOutput } from './graphs.ts';
import { headDims, initHead } from './params.ts';
import type { HeadParams, TorchLinear } from './params.ts';
import { createRandom, permutation } from './random.ts';
import type { Random } from './random.ts';
import { featureScaling, standardizeRows, toRaw, toStandardized } from './standardize.ts';

/** The paper's flips, p = 0.5 each for horizontal and vertical: none, horizontal, vertical, both. */
export const FLIP_VARIANTS = 4;

/**
 * Embeddings of images × flip variants, row (image i, variant v) at ((i·variants) + v)·dim. Variant 0 is the
 * unflipped image. With a frozen backbone and flips as the only augmentation, drawing one of the four cached
 * variants per image per epoch is exactly the paper's random flipping (paper section 2.4; docs/domain.md, "Flips").
 */
export interface EmbeddingTable {
  vectors: Float32Array;
  images: number;
  variants: number;
  dim: number;
}

/**
 * Defaults follow paper section 2.4 and docs/domain.md, "Training schedule": 50 epochs, lr 0.001 × 0.1 every 10 epochs, SGD momentum 0.9.
 * Batch size is unstated in the paper; we use 16 (≈ 41 steps per epoch on ~650 training images): small enough for
 * many updates at lr 0.001, large enough that per-step runtime overhead stays small.
 *
 * Where the paper is silent, decided by leave-one-bundle-out CV on the synthetic set (bench/results/
 * cv-synthetic-cpu-128x64.json, untrained backbone): SGD in standardised coordinates (standardize.ts; without it the
 * head predicts one class for every image with methods 1 and 2) and class-balanced cross-entropy, the paper's own
 * future work (section 5): with standardisation it gained 4.6, 3.5 and 6.4 points of pooled balanced accuracy with
 * methods 1, 3 and 4 and lost 1.0 with method 2.
 */
export const TRAINING_DEFAULTS = {
  epochs: 50,
  batchSize: 16,
  learningRate: 0.001,
  decayEvery: 10,
  decayFactor: 0.1,
  momentum: 0.9,
  standardize: true,
  classWeights: 'balanced',
} as const;

export interface EpochReport {
  epoch: number;
  epochs: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  loss: number;
  learningRate: number;
}

export interface TrainHeadOptions {
  seed: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  decayEvery?: number;
  decayFactor?: number;
  momentum?: number;
  /**
   * Class-weighted cross-entropy (the paper's future work, section 5): explicit [normal, abnormal] weights,
   * 'balanced' = n / (2·n_class) on the training set (the default, see TRAINING_DEFAULTS), or null for plain
   * cross-entropy.
   */
  classWeights?: readonly [number, number] | 'balanced' | null;
  /** The backbone's fc (torchvision layout) to start fc0 from; He initialisation otherwise. */
  backboneFc?: TorchLinear | null;
  /** Layer widths (tests use small heads); the paper's head by default. */
  dims?: readonly number[];
  /**
   * SGD in standardised coordinates (standardize.ts: fc0 reparametrised with the training images' per-feature mean
   * and scale, folded back after training, so the initial and the returned head are plain layers on raw embeddings).
   * Default true; false trains on the raw embeddings (the earlier procedure, kept for comparisons).
   */
  standardize?: boolean;
  onEpoch?: (report: EpochReport) => void | Promise<void>;
  /** ONNX Runtime intra-op threads for the training session (its default, one per core, when omitted). */
  threads?: number;
}

export interface TrainedHead {
  params: HeadParams;
  losses: number[];
  batchSize: number;
  steps: number;
}

/** The learning rate of a (0-based) epoch: step decay, paper section 2.4. */
export function learningRateAt(
  epoch: number,
  o: { learningRate: number; decayEvery: number; decayFactor: number },
): number {
  return o.learningRate * o.decayFactor ** Math.floor(epoch / o.decayEvery);
}

/**
 * The random stream of batch order and flip draws for a seed — separate from the initialisation's, so changing the
 * number of epochs never changes the initial weights.
 */
export function trainingRandom(seed: number): Random {
  return createRandom((seed ^ 0x5bd1e995) >>> 0);
}

/**
 * One epoch's plan: a permutation of the n training images (batches are consecutive runs of it) and, for each
 * position, which of the cached flip variants that image shows this epoch (uniform: the paper's independent
 * horizontal and vertical flips with p = 0.5 each).
 */
export function planEpoch(
  random: Random,
  n: number,
  variants: number,
): { order: Int32Array; variants: Uint8Array } {
  const order = permutation(n, random);
  const drawn = new Uint8Array(n);
  for (let k = 0; k < n; k++) drawn[k] = random.int(variants);
  return { order, variants: drawn };
}

const trainingSessions = new Map<string, Promise<ort.InferenceSession>>();

/** One compiled training-step session per head shape; the state travels as inputs, so sessions are reusable. */
function trainingSession(
  dims: readonly number[],
  momentum: number,
  output: HeadOutput,
  threads?: number,
): Promise<ort.InferenceSession> {
  const key = `${dims.join('x')}:${output}@${momentum}/${threads ?? 'default'}`;
  let session = trainingSessions.get(key);
  if (!session) {
    session = ort.InferenceSession.create(buildTrainingGraph(dims, momentum, output), {
      graphOptimizationLevel: 'all',
      ...(threads ? { intraOpNumThreads: threads } : {}),
    });
    trainingSessions.set(key, session);
  }
  return session;
}

function resolveClassWeights(
  option: TrainHeadOptions['classWeights'],
  labels: ArrayLike<number>,
  indices: ArrayLike<number>,
): [number, number] {
  if (!option) return [1, 1];
  if (option !== 'balanced') return [option[0], option[1]];
  const counts = [0, 0];
  for (let k = 0; k < indices.length; k++) counts[labels[indices[k]]]++;
  if (counts[0] === 0 || counts[1] === 0) return [1, 1];
  const n = indices.length;
  return [n / (2 * counts[0]), n / (2 * counts[1])];
}

/**
 * Trains the head on the images `indices` (labels: 1 = abnormal) with one ONNX Runtime session running the whole
 * training step. Reproducible for a seed: the initialisation, the batch order and the flip draws all come from it.
 *
 * Weights and momentum state stay in two sets of ort Tensors used in turn: a step reads set A and writes set B in
 * place (pre-allocated outputs), the next step reads B and writes A, so no step allocates or copies the ~1.2 M
 * parameters.
 */
export async function trainHead(
  table: EmbeddingTable,
  labels: ArrayLike<number>,
  indices: ArrayLike<number>,
  options: TrainHeadOptions,
): Promise<TrainedHead> {
  const dims = options.dims ?? headDims(table.dim);
  const classWeights = resolveClassWeights(
    options.classWeights === undefined ? TRAINING_DEFAULTS.classWeights : options.classWeights,
    labels,
    indices,
  );
  const targets: HeadTargets = {
    output: 'softmax',
    write: (image, row) => void (row[labels[image]] = 1),
    weight: (image) => classWeights[labels[image]],
  };
  const initial = initHead({ seed: options.seed, backboneFc: options.backboneFc, dims });
  return trainOnTargets(table, targets, indices, initial, options);
}

/**
 * What a head learns from each training image: the output layer and, per image, its target row and loss weight.
 * The paper's head writes a one-hot class; the anomaly-type head (multilabel.ts) a 0/1 per type.
 */
export interface HeadTargets {
  output: HeadOutput;
  /** Writes the image's targets into `row` (one value per output, zero-filled beforehand). */
  write(image: number, row: Float32Array): void;
  weight(image: number): number;
}

/** The options of {@link trainOnTargets}: the schedule and seed; the head's shape comes from its initial weights. */
export type TrainingScheduleOptions = Omit<TrainHeadOptions, 'classWeights' | 'backboneFc' | 'dims'>;

/**
 * The training loop behind every head: SGD with momentum from `initial`, batches and flip draws from the seed's
 * training stream. See {@link trainHead}. `initial` is consumed: its arrays become the first set of training state.
 */
export async function trainOnTargets(
  table: EmbeddingTable,
  targetsOf: HeadTargets,
  indices: ArrayLike<number>,
  initial: HeadParams,
  options: TrainingScheduleOptions,
): Promise<TrainedHead> {
  const o = { ...TRAINING_DEFAULTS, ...options };
  const dims = [initial[0].inputs, ...initial.map((layer) => layer.outputs)];
  if (table.dim !== dims[0])
    throw new Error(`embeddings have ${table.dim} values; the head expects ${dims[0]}`);
  const n = indices.length;
  if (n === 0) throw new Error('no training images');
  const classes = dims[dims.length - 1];
  const session = await trainingSession(dims, o.momentum, targetsOf.output, options.threads);
  const dim = table.dim;
  const variants = table.variants;
  // The training images' rows (every variant), in `indices` order; standardised unless asked not to (standardize.ts).
  const rows = new Float32Array(n * variants * dim);
  for (let k = 0; k < n; k++) {
    const from = indices[k] * variants * dim;
    rows.set(table.vectors.subarray(from, from + variants * dim), k * variants * dim);
  }
  const scaling = o.standardize ? featureScaling(table.vectors, dim, variants, indices) : null;
  if (scaling) {
    standardizeRows(rows, scaling);
    initial = [toStandardized(initial[0], scaling), ...initial.slice(1)];
  }

  const tensor = (data: Float32Array, shape: readonly number[]) =>
    new ort.Tensor('float32', data, [...shape]);
  type State = Record<string, ort.Tensor>;
  const current: State = {};
  const spare: State = {};
  initial.forEach((layer, l) => {
    const names = stateNames(l);
    const shapeW = [layer.inputs, layer.outputs];
    const shapeB = [layer.outputs];
    current[names.weight] = tensor(layer.weight, shapeW);
    current[names.bias] = tensor(layer.bias, shapeB);
    current[names.weightStep] = tensor(new Float32Array(layer.weight.length), shapeW);
    current[names.biasStep] = tensor(new Float32Array(layer.bias.length), shapeB);
    for (const name of Object.values(names)) {
      const t = current[name];
      spare[name] = tensor(new Float32Array(t.size), t.dims);
    }
  });
  const stateKeys = Object.keys(current);
  let stateIn = current;
  let stateOut = spare;

  const random = trainingRandom(o.seed);
  const losses: number[] = [];
  let steps = 0;
  let previousRate = o.learningRate;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const learningRate = learningRateAt(epoch, o);
    if (learningRate !== previousRate) {
      // The momentum state is lr·v (graphs.ts): rescale it so that v carries over unchanged, as in PyTorch.
      const ratio = learningRate / previousRate;
      initial.forEach((_, l) => {
        const names = stateNames(l);
        for (const key of [names.weightStep, names.biasStep]) {
          const data = stateIn[key].data as Float32Array;
          for (let k = 0; k < data.length; k++) data[k] *= ratio;
        }
      });
      previousRate = learningRate;
    }
    const lrTensor = tensor(Float32Array.of(learningRate), []);
    const { order, variants: drawn } = planEpoch(random, n, variants);
    let lossSum = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      const size = Math.min(o.batchSize, n - start);
      const x = new Float32Array(size * dim);
      const targets = new Float32Array(size * classes);
      const weights = new Float32Array(size);
      for (let r = 0; r < size; r++) {
        const k = order[start + r];
        const image = indices[k];
        const row = (k * variants + drawn[start + r]) * dim;
        x.set(rows.subarray(row, row + dim), r * dim);
        targetsOf.write(image, targets.subarray(r * classes, (r + 1) * classes));
        weights[r] = targetsOf.weight(image);
      }
      const feeds: State = {
        ...stateIn,
        [TRAIN_INPUTS.embeddings]: tensor(x, [size, dim]),
        [TRAIN_INPUTS.targets]: tensor(targets, [size, classes]),
        [TRAIN_INPUTS.sampleWeights]: tensor(weights, [size]),
        [TRAIN_INPUTS.learningRate]: lrTensor,
      };
      const fetches: Record<string, ort.Tensor | null> = { [TRAIN_LOSS]: null };
      for (const key of stateKeys) fetches[nextName(key)] = stateOut[key];
      const result = await session.run(feeds, fetches);
      lossSum += (result[TRAIN_LOSS].data as Float32Array)[0] * size;
      [stateIn, stateOut] = [stateOut, stateIn];
      steps++;
    }
    const report = { epoch: epoch + 1, epochs: o.epochs, loss: lossSum / n, learningRate };
    losses.push(report.loss);
    await options.onEpoch?.(report);
  }

  const params: HeadParams = initial.map((layer, l) => {
    const names = stateNames(l);
    return {
      inputs: layer.inputs,
      outputs: layer.outputs,
      weight: (stateIn[names.weight].data as Float32Array).slice(),
      bias: (stateIn[names.bias].data as Float32Array).slice(),
    };
  });
  if (scaling) params[0] = toRaw(params[0], scaling);
  return { params, losses, batchSize: o.batchSize, steps };
}

/** Rows of `table` for `indices` in one variant (0 = unflipped), as a [k, dim] batch. */
export function gatherVariant(table: EmbeddingTable, indices: ArrayLike<number>, variant = 0): Float32Array {
  const out = new Float32Array(indices.length * table.dim);
  for (let k = 0; k < indices.length; k++) {
    const row = (indices[k] * table.variants + variant) * table.dim;
    out.set(table.vectors.subarray(row, row + table.dim), k * table.dim);
  }
  return out;
}

/**
 * Probabilities of the head's ONNX inference graph for a batch of embeddings [k, dim]; returns [k, outputs]
 * row-major (the paper's head: column 1 = abnormal; `sigmoid`: one independent probability per output).
 */
export async function predictHead(
  params: HeadParams,
  embeddings: Float32Array,
  output: HeadOutput = 'softmax',
): Promise<Float32Array> {
  const dim = params[0].inputs;
  const k = embeddings.length / dim;
  if (k === 0) return new Float32Array(0);
  const session = await ort.InferenceSession.create(buildInferenceGraph(params, output).toBytes());
  try {
    const out = await session.run({ [INFERENCE_INPUT]: new ort.Tensor('float32', embeddings, [k, dim]) });
    return (out[INFERENCE_OUTPUT].data as Float32Array).slice();
  } finally {
    await session.release();
  }
}

/**
 * P(abnormal) of the given images (default: all) with a trained head, from the unflipped embeddings.
 */
export async function scoreImages(
  model: HeadParams,
  embeddings: EmbeddingTable,
  images: readonly number[] = Array.from({ length: embeddings.images }, (_, i) => i),
): Promise<Float32Array> {
  const p = await predictHead(model, gatherVariant(embeddings, images));
  return Float32Array.from(images, (_, k) => p[2 * k + 1]);
}
