/**
 * Plain-TypeScript float64 reference of the head: forward, loss and hand-derived gradients. It is the yardstick for
 * the ONNX graphs (tests compare them) and for finite differences; training itself runs on ONNX Runtime.
 *
 * Loss (PyTorch's CrossEntropyLoss with class weights, reduction "mean"):
 *   L = Σ_i w_i · (−log p_{i,y_i}) / Σ_i w_i,  p_i = softmax(z_i),  w_i = 1 unless class weights are used.
 * Backward: ∂L/∂z_i = w_i (p_i − onehot(y_i)) / Σ w;  for a layer z = a·W + b:  ∂W = aᵀ·∂z,  ∂b = Σ_rows ∂z,
 * ∂a = ∂z·Wᵀ;  through ReLU: ∂z_prev = ∂a ⊙ [z_prev > 0].
 *
 * The multi-label (sigmoid) head of multilabel.ts: L = Σ_i w_i Σ_k −[t_ik log σ(z_ik) + (1 − t_ik) log(1 − σ(z_ik))]
 * / Σ w, whose gradient at the logits has the same form, ∂L/∂z_ik = w_i (σ(z_ik) − t_ik) / Σ w.
 */

/** A layer as the reference reads it: HeadParams fit, and so do float64 copies for finite differences. */
export interface ReferenceLayer {
  inputs: number;
  outputs: number;
  weight: ArrayLike<number>;
  bias: ArrayLike<number>;
}
type HeadParams = readonly ReferenceLayer[];

export interface ReferenceResult {
  /** Class probabilities, [batch, classes] row-major. */
  probabilities: Float64Array;
  loss: number;
  /** Per layer: ∂L/∂W ([inputs, outputs]) and ∂L/∂b. */
  gradients: { weight: Float64Array; bias: Float64Array }[];
}

/** Forward pass; returns every layer's pre-activation (the last one is the logits). */
function forward(params: HeadParams, x: ArrayLike<number>, batch: number): Float64Array[] {
  const pre: Float64Array[] = [];
  let a: ArrayLike<number> = x;
  params.forEach((layer, l) => {
    const { inputs, outputs, weight, bias } = layer;
    const z = new Float64Array(batch * outputs);
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < outputs; o++) z[n * outputs + o] = bias[o];
      for (let i = 0; i < inputs; i++) {
        const v = a[n * inputs + i];
        if (v === 0) continue;
        for (let o = 0; o < outputs; o++) z[n * outputs + o] += v * weight[i * outputs + o];
      }
    }
    pre.push(z);
    a = l + 1 < params.length ? z.map((v) => (v > 0 ? v : 0)) : z;
  });
  return pre;
}

function softmaxRows(z: Float64Array, batch: number, classes: number): Float64Array {
  const p = new Float64Array(z.length);
  for (let n = 0; n < batch; n++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, z[n * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += p[n * classes + c] = Math.exp(z[n * classes + c] - max);
    for (let c = 0; c < classes; c++) p[n * classes + c] /= sum;
  }
  return p;
}

export function referenceProbabilities(
  params: HeadParams,
  x: ArrayLike<number>,
  batch: number,
): Float64Array {
  const pre = forward(params, x, batch);
  return softmaxRows(pre[pre.length - 1], batch, params[params.length - 1].outputs);
}

/**
 * Loss and gradients for one batch. `labels[i]` is the class index (1 = abnormal); `weights[i]` the sample weight
 * (the class weight of its label), 1 when omitted.
 */
export function referenceLossAndGradients(
  params: HeadParams,
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights?: ArrayLike<number>,
): ReferenceResult {
  const batch = labels.length;
  const classes = params[params.length - 1].outputs;
  const pre = forward(params, x, batch);
  const logits = pre[pre.length - 1];
  const probabilities = softmaxRows(logits, batch, classes);
  let weightSum = 0;
  for (let n = 0; n < batch; n++) weightSum += weights ? weights[n] : 1;

  let loss = 0;
  const dz = new Float64Array(batch * classes);
  for (let n = 0; n < batch; n++) {
    const w = (weights ? weights[n] : 1) / weightSum;
    const row = logits.subarray(n * classes, (n + 1) * classes);
    const max = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    loss -= w * (row[labels[n]] - max - Math.log(sum));
    for (let c = 0; c < classes; c++)
      dz[n * classes + c] = w * (probabilities[n * classes + c] - (c === labels[n] ? 1 : 0));
  }

  return { probabilities, loss, gradients: backward(params, x, pre, dz, batch) };
}

/** Backpropagation from ∂L/∂logits through every layer (the same for both losses). */
function backward(
  params: HeadParams,
  x: ArrayLike<number>,
  pre: Float64Array[],
  dLogits: Float64Array,
  batch: number,
): ReferenceResult['gradients'] {
  let dz = dLogits;
  const gradients: ReferenceResult['gradients'] = new Array(params.length);
  for (let l = params.length - 1; l >= 0; l--) {
    const { inputs, outputs, weight } = params[l];
    const a = l === 0 ? x : pre[l - 1].map((v) => (v > 0 ? v : 0));
    const gw = new Float64Array(inputs * outputs);
    const gb = new Float64Array(outputs);
    for (let n = 0; n < batch; n++)
      for (let o = 0; o < outputs; o++) {
        const d = dz[n * outputs + o];
        gb[o] += d;
        if (d === 0) continue;
        for (let i = 0; i < inputs; i++) gw[i * outputs + o] += a[n * inputs + i] * d;
      }
    gradients[l] = { weight: gw, bias: gb };
    if (l > 0) {
      const prev = pre[l - 1];
      const next = new Float64Array(batch * inputs);
      for (let n = 0; n < batch; n++)
        for (let i = 0; i < inputs; i++) {
          if (prev[n * inputs + i] <= 0) continue;
          let s = 0;
          for (let o = 0; o < outputs; o++) s += dz[n * outputs + o] * weight[i * outputs + o];
          next[n * inputs + i] = s;
        }
      dz = next;
    }
  }
  return gradients;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Independent per-output probabilities σ(z) of the multi-label head, [batch, outputs] row-major. */
export function referenceSigmoidProbabilities(
  params: HeadParams,
  x: ArrayLike<number>,
  batch: number,
): Float64Array {
  const pre = forward(params, x, batch);
  return pre[pre.length - 1].map(sigmoid);
}

/**
 * Loss and gradients of the multi-label head for one batch: `targets` is [batch, outputs] of 0/1 (fractions work
 * too), `weights[i]` the sample weight, 1 when omitted. The loss is computed from the logits directly
 * (log σ(z) = −log(1 + e^−z)), not from rounded probabilities, so finite differences see its true slope.
 */
export function referenceMultiLabelLossAndGradients(
  params: HeadParams,
  x: ArrayLike<number>,
  targets: ArrayLike<number>,
  batch: number,
  weights?: ArrayLike<number>,
): ReferenceResult {
  const outputs = params[params.length - 1].outputs;
  if (targets.length !== batch * outputs)
    throw new Error(`${targets.length} targets for ${batch} samples × ${outputs} outputs`);
  const pre = forward(params, x, batch);
  const logits = pre[pre.length - 1];
  const probabilities = logits.map(sigmoid);
  let weightSum = 0;
  for (let n = 0; n < batch; n++) weightSum += weights ? weights[n] : 1;
  const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  let loss = 0;
  const dz = new Float64Array(batch * outputs);
  for (let n = 0; n < batch; n++) {
    const w = (weights ? weights[n] : 1) / weightSum;
    for (let k = 0; k < outputs; k++) {
      const z = logits[n * outputs + k];
      const t = targets[n * outputs + k];
      // −[t log σ(z) + (1 − t) log(1 − σ(z))] = t·softplus(−z) + (1 − t)·softplus(z).
      loss += w * (t * softplus(-z) + (1 - t) * softplus(z));
      dz[n * outputs + k] = w * (probabilities[n * outputs + k] - t);
    }
  }
  return { probabilities, loss, gradients: backward(params, x, pre, dz, batch) };
}
