/**
 * The stored head's layer shapes: what the runner trains, the API stores in `model_versions.head_weights` and the
 * ONNX export merges. One home below both (lib), so the API reads a stored head without the runner's code.
 */

/** One fully connected layer, y = x·W + b, with W stored row-major as [inputs, outputs] (ONNX Gemm without transB). */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weight: Float32Array;
  bias: Float32Array;
}

export type HeadParams = DenseLayer[];
