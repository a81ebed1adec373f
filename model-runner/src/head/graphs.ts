import { GraphBuilder, float } from '../onnx/graph.ts';
import type { HeadParams } from './params.ts';

/**
 * ONNX graphs of the head (paper section 2.4). Both graphs take embeddings [N, dims[0]] (N symbolic).
 *
 * The training step is one graph: forward, the hand-derived backward of `reference.ts` and the SGD-with-momentum
 * update of PyTorch (v ← μ·v + g;  θ ← θ − lr·v; no dampening, no weight decay). Weights and momentum state are
 * graph inputs and outputs, not initializers, so the caller keeps the state between steps and the same compiled
 * session serves every step; the learning rate is an input so the ×0.1 decay needs no rebuild.
 *
 * The momentum state is kept as the STEP s = lr·v rather than v: then s ← μ·s + aᵀ·(lr·∂z) is one Gemm (C = s,
 * beta = μ, with lr folded into the small ∂z) and θ ← θ − s one Sub, so the largest tensors (fc0, fc1: 512×1000)
 * are read and written once each per step instead of three times. It is exactly PyTorch's trajectory as long as s is
 * rescaled by lr_new / lr_old when the learning rate changes (the trainer does that at each decay).
 */

/** Names of the training graph's state values for layer l. */
export const stateNames = (l: number) => ({
  weight: `fc${l}_weight`,
  bias: `fc${l}_bias`,
  /** Momentum state as lr·v (see the module comment). */
  weightStep: `fc${l}_weight_step`,
  biasStep: `fc${l}_bias_step`,
});
/** The updated value of a state input is output under this name. */
export const nextName = (name: string): string => `${name}_next`;

export const TRAIN_INPUTS = {
  embeddings: 'embeddings',
  /** One-hot targets [N, classes] (float32). */
  targets: 'targets',
  /** Per-sample loss weights [N]: the class weight of its label, or 1. */
  sampleWeights: 'sample_weights',
  /** Scalar float32 learning rate. */
  learningRate: 'learning_rate',
} as const;
export const TRAIN_LOSS = 'loss';

export const INFERENCE_INPUT = 'embeddings';
export const INFERENCE_OUTPUT = 'probabilities';

/**
 * The output layer of a head. `softmax`: one class of several — the paper's normal/abnormal head, cross-entropy.
 * `sigmoid`: independent yes/no outputs — the anomaly-type head (multilabel.ts), binary cross-entropy summed over
 * the outputs. Both losses have the same gradient at the logits, ŵ_i (p_i − t_i), so the backward pass is shared.
 */
export type HeadOutput = 'softmax' | 'sigmoid';

export function buildTrainingGraph(
  dims: readonly number[],
  momentum = 0.9,
  output: HeadOutput = 'softmax',
): Uint8Array {
  const g = new GraphBuilder('head_training_step');
  const layers = dims.length - 1;
  const classes = dims[layers];
  const x = g.input(TRAIN_INPUTS.embeddings, 'float32', ['N', dims[0]]);
  const targets = g.input(TRAIN_INPUTS.targets, 'float32', ['N', classes]);
  const sampleWeights = g.input(TRAIN_INPUTS.sampleWeights, 'float32', ['N']);
  const lr = g.input(TRAIN_INPUTS.learningRate, 'float32', []);
  const state = Array.from({ length: layers }, (_, l) => {
    const names = stateNames(l);
    const shapeW = [dims[l], dims[l + 1]];
    const shapeB = [dims[l + 1]];
    g.input(names.weight, 'float32', shapeW);
    g.input(names.bias, 'float32', shapeB);
    g.input(names.weightStep, 'float32', shapeW);
    g.input(names.biasStep, 'float32', shapeB);
    return { names, shapeW, shapeB };
  });

  // Forward: z_l = a_{l-1}·W_l + b_l, a_l = relu(z_l); the last z is the logits.
  const activations: string[] = [x];
  const preActivations: string[] = [];
  for (let l = 0; l < layers; l++) {
    const { weight, bias } = state[l].names;
    const z = g.op('Gemm', [activations[l], weight, bias], {}, { output: `fc${l}_z` });
    preActivations.push(z);
    if (l + 1 < layers) activations.push(g.op('Relu', [z], {}, { output: `fc${l}_a` }));
  }
  const logits = preActivations[layers - 1];

  // Loss, weighted over samples with ŵ = w / Σw (PyTorch's weighted "mean"):
  //   softmax: cross-entropy, L = −Σ_i ŵ_i Σ_c t_ic log p_ic;
  //   sigmoid: binary cross-entropy summed over outputs, L = Σ_i ŵ_i Σ_k [softplus(z_ik) − t_ik z_ik], which is
  //   −[t log σ(z) + (1 − t) log(1 − σ(z))] written without overflow: softplus(z) = max(z, 0) + log(1 + e^−|z|).
  let p: string;
  let elementLoss: string;
  if (output === 'softmax') {
    const logP = g.op('LogSoftmax', [logits], { axis: 1 });
    p = g.op('Exp', [logP]);
    elementLoss = g.op('Neg', [g.op('Mul', [targets, logP])]);
  } else {
    p = g.op('Sigmoid', [logits]);
    const one = g.float32s([1], [], 'one');
    const tail = g.op('Log', [g.op('Add', [one, g.op('Exp', [g.op('Neg', [g.op('Abs', [logits])])])])]);
    const softplus = g.op('Add', [g.op('Relu', [logits]), tail]);
    elementLoss = g.op('Sub', [softplus, g.op('Mul', [targets, logits])]);
  }
  const normalized = g.op('Div', [sampleWeights, g.op('ReduceSum', [sampleWeights], { keepdims: 0 })]);
  const rowWeights = g.op('Unsqueeze', [normalized, g.int64s([1])]); // [N, 1]
  const perSample = g.op('Mul', [elementLoss, rowWeights]);
  g.op('ReduceSum', [perSample], { keepdims: 0 }, { output: TRAIN_LOSS });
  g.output(TRAIN_LOSS, 'float32', []);

  // Backward: ∂L/∂logits = ŵ_i (p_i − t_i) for both outputs; then per layer ∂W = aᵀ·∂z, ∂b = Σ_rows ∂z, ∂a = ∂z·Wᵀ, ReLU mask.
  const mu = g.float32s([momentum], [], 'momentum');
  const zero = g.float32s([0], [], 'zero');
  const rows = g.int64s([0], 'axis_rows');
  let dz = g.op('Mul', [g.op('Sub', [p, targets]), rowWeights], {}, { output: `fc${layers - 1}_dz` });
  for (let l = layers - 1; l >= 0; l--) {
    const { names, shapeW, shapeB } = state[l];
    const lrDz = g.op('Mul', [dz, lr]); // [N, out]: cheap, and it spares a pass over the weight-sized tensors
    // s_W ← μ·s_W + aᵀ·(lr·∂z): one Gemm; the weight gradient itself is never materialised.
    const stepW = g.op(
      'Gemm',
      [activations[l], lrDz, names.weightStep],
      { transA: 1, beta: float(momentum) },
      { output: nextName(names.weightStep) },
    );
    const stepB = g.op(
      'Add',
      [g.op('Mul', [names.biasStep, mu]), g.op('ReduceSum', [lrDz, rows], { keepdims: 0 })],
      {},
      { output: nextName(names.biasStep) },
    );
    if (l > 0) {
      const da = g.op('Gemm', [dz, names.weight], { transB: 1 });
      const active = g.op('Greater', [preActivations[l - 1], zero]);
      dz = g.op('Where', [active, da, zero], {}, { output: `fc${l - 1}_dz` });
    }
    // θ ← θ − s.
    for (const [param, step, shape] of [
      [names.weight, stepW, shapeW],
      [names.bias, stepB, shapeB],
    ] as const) {
      g.op('Sub', [param, step], {}, { output: nextName(param) });
      g.output(nextName(param), 'float32', [...shape]);
      g.output(step, 'float32', [...shape]);
    }
  }
  return g.toBytes({ docString: 'Platina head: one SGD-momentum training step (paper section 2.4)' });
}

/**
 * Inference graph with the trained weights as initializers: embeddings [N, 512] → probabilities [N, outputs]
 * (the paper's head: [N, 2], column 1 = abnormal; `sigmoid`: one independent probability per output). Returned as
 * a builder so the export can merge it behind the backbone.
 */
export function buildInferenceGraph(params: HeadParams, output: HeadOutput = 'softmax'): GraphBuilder {
  const g = new GraphBuilder('head_inference');
  let a = g.input(INFERENCE_INPUT, 'float32', ['N', params[0].inputs]);
  params.forEach((layer, l) => {
    const w = g.initializer(`fc${l}_weight`, 'float32', [layer.inputs, layer.outputs], layer.weight);
    const b = g.initializer(`fc${l}_bias`, 'float32', [layer.outputs], layer.bias);
    const z = g.op('Gemm', [a, w, b], {}, { output: `fc${l}_z` });
    a = l + 1 < params.length ? g.op('Relu', [z], {}, { output: `fc${l}_a` }) : z;
  });
  if (output === 'softmax') g.op('Softmax', [a], { axis: 1 }, { output: INFERENCE_OUTPUT });
  else g.op('Sigmoid', [a], {}, { output: INFERENCE_OUTPUT });
  g.output(INFERENCE_OUTPUT, 'float32', ['N', params[params.length - 1].outputs]);
  return g;
}
