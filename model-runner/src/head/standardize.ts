import type { DenseLayer } from './params.ts';

/**
 * Feature standardisation as a reparametrisation of the head's first layer (decided here; the paper is silent).
 *
 * Why: frozen-backbone embeddings are far from unit scale and nearly constant across images — the offline untrained
 * ResNet-34 at 128×64 gives features of mean ≈ 2 whose spread across images is ≈ 4 % of that (method 1/2), with one
 * direction holding 80 % of the variance. Plain SGD on such inputs is badly conditioned: every gradient of fc0 points
 * along the shared mean vector, so 50 epochs at lr 0.001 learn little beyond the output bias, and the head predicts
 * the majority class for every image (balanced accuracy exactly 50 %).
 *
 * What: SGD runs in standardised coordinates z = (x − μ) / s, with μ and s the per-feature mean and standard
 * deviation over the TRAINING images (all flip variants: what an epoch shows), and fc0 is reparametrised so that it
 * computes the same function: W' = diag(s)·W, b' = b + μ·W. The initial head is therefore exactly the paper's (fc0 =
 * the backbone's fc), only the coordinates that SGD steps in change. After training the transform is folded back,
 * W = diag(1/s)·W', b = b' − (μ/s)·W', so the trained head is again plain dense layers on raw embeddings: the stored
 * model, the scoring and the merged ONNX export need no extra step and reproduce the trained function exactly
 * (up to float32 rounding of the fold, tested).
 */
export interface FeatureScaling {
  mean: Float64Array;
  /** Standard deviation, or 1 for a feature that does not vary (beyond float noise) on the training images. */
  scale: Float64Array;
}

/**
 * Per-feature mean and scale over `indices` × every variant of `vectors` (rows of `dim`, `variants` rows per image),
 * in float64. A feature whose standard deviation is below 1e-6 of its magnitude (or exactly 0) gets scale 1: it is
 * constant on the training set, and dividing by float noise would turn it into a huge spurious feature.
 */
export function featureScaling(
  vectors: Float32Array,
  dim: number,
  variants: number,
  indices: ArrayLike<number>,
): FeatureScaling {
  const rows = indices.length * variants;
  const mean = new Float64Array(dim);
  const scale = new Float64Array(dim);
  const each = (visit: (row: number) => void) => {
    for (let k = 0; k < indices.length; k++)
      for (let v = 0; v < variants; v++) visit((indices[k] * variants + v) * dim);
  };
  each((row) => {
    for (let d = 0; d < dim; d++) mean[d] += vectors[row + d];
  });
  for (let d = 0; d < dim; d++) mean[d] /= rows;
  each((row) => {
    for (let d = 0; d < dim; d++) scale[d] += (vectors[row + d] - mean[d]) ** 2;
  });
  for (let d = 0; d < dim; d++) {
    const sd = Math.sqrt(scale[d] / rows);
    scale[d] = sd > 1e-6 * Math.abs(mean[d]) && sd > 0 ? sd : 1;
  }
  return { mean, scale };
}

/** z = (x − μ) / s of every row, in place. */
export function standardizeRows(vectors: Float32Array, s: FeatureScaling): void {
  const dim = s.mean.length;
  for (let row = 0; row < vectors.length; row += dim)
    for (let d = 0; d < dim; d++) vectors[row + d] = (vectors[row + d] - s.mean[d]) / s.scale[d];
}

/** fc0 on raw embeddings → the same function on standardised ones: W' = diag(s)·W, b' = b + μ·W. */
export function toStandardized(layer: DenseLayer, s: FeatureScaling): DenseLayer {
  const { inputs, outputs } = layer;
  const weight = new Float32Array(layer.weight.length);
  const bias = Float64Array.from(layer.bias);
  for (let i = 0; i < inputs; i++)
    for (let o = 0; o < outputs; o++) {
      const w = layer.weight[i * outputs + o];
      weight[i * outputs + o] = w * s.scale[i];
      bias[o] += s.mean[i] * w;
    }
  return { inputs, outputs, weight, bias: Float32Array.from(bias) };
}

/** The inverse: fc0 on standardised embeddings → the same function on raw ones, W = diag(1/s)·W', b = b' − (μ/s)·W'. */
export function toRaw(layer: DenseLayer, s: FeatureScaling): DenseLayer {
  const { inputs, outputs } = layer;
  const weight = new Float32Array(layer.weight.length);
  const bias = Float64Array.from(layer.bias);
  for (let i = 0; i < inputs; i++)
    for (let o = 0; o < outputs; o++) {
      const w = layer.weight[i * outputs + o] / s.scale[i];
      weight[i * outputs + o] = w;
      bias[o] -= s.mean[i] * w;
    }
  return { inputs, outputs, weight, bias: Float32Array.from(bias) };
}
