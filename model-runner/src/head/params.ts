import { createRandom } from './random.ts';
import type { HeadParams } from '../../../lib/model/head.ts';

/**
 * The classifier head of paper section 2.4: the backbone's last fully connected layer (512→1000), then fully
 * connected layers of 512 and 256 units and a 2-way softmax. ReLU between the layers is our reading (docs/domain.md, "The head"):
 * the paper names no activation.
 */
export const HEAD_DIMS: readonly number[] = [512, 1000, 512, 256, 2];

/** The paper's head on feature vectors of `inputs` values (512 for the embedding alone; more with evidence). */
export function headDims(inputs: number): readonly number[] {
  return [inputs, ...HEAD_DIMS.slice(1)];
}

// The layer shapes live in lib (the API decodes stored heads too); re-exported for the runner's modules.
export type { DenseLayer, HeadParams } from '../../../lib/model/head.ts';

/** A fully connected layer in PyTorch's layout: weight [outputs, inputs] row-major, as torchvision's `fc`. */
export interface TorchLinear {
  weight: Float32Array;
  bias: Float32Array;
}

export interface InitHeadOptions {
  seed: number;
  /** The backbone's own fc (512→1000, torchvision layout) when it has one: the paper fine-tunes that layer. */
  backboneFc?: TorchLinear | null;
  /** Layer widths, input first; the paper's head unless a test asks for a small one or the features are wider. */
  dims?: readonly number[];
}

/**
 * Seeded initial parameters. Layers without pretrained weights get He (Kaiming normal) initialisation,
 * N(0, 2 / fan_in), zero bias — the usual choice in front of ReLU. fc0 copies the backbone's fc when given.
 */
export function initHead({ seed, backboneFc = null, dims = HEAD_DIMS }: InitHeadOptions): HeadParams {
  const random = createRandom(seed);
  const layers: HeadParams = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const inputs = dims[l];
    const outputs = dims[l + 1];
    const weight = new Float32Array(inputs * outputs);
    const bias = new Float32Array(outputs);
    if (l === 0 && backboneFc) {
      // The fc covers the embedding's inputs, which come first; inputs beyond them (the evidence block of the
      // fused features, evidence/README.md) get He initialisation like any layer without pretrained weights.
      const fcInputs = backboneFc.weight.length / outputs;
      if (!Number.isInteger(fcInputs) || fcInputs > inputs || backboneFc.bias.length !== outputs) {
        throw new Error(
          `backbone fc has ${backboneFc.weight.length} weights and ${backboneFc.bias.length} biases; ` +
            `the head's first layer needs ${inputs}×${outputs} (or its first rows) and ${outputs}`,
        );
      }
      // torchvision stores [outputs, inputs]; we store [inputs, outputs].
      for (let o = 0; o < outputs; o++)
        for (let i = 0; i < fcInputs; i++) weight[i * outputs + o] = backboneFc.weight[o * fcInputs + i];
      const std = Math.sqrt(2 / inputs);
      for (let k = fcInputs * outputs; k < weight.length; k++) weight[k] = random.normal() * std;
      bias.set(backboneFc.bias);
    } else {
      const std = Math.sqrt(2 / inputs);
      for (let k = 0; k < weight.length; k++) weight[k] = random.normal() * std;
    }
    layers.push({ inputs, outputs, weight, bias });
  }
  return layers;
}

export function cloneHead(params: HeadParams): HeadParams {
  return params.map((p) => ({ ...p, weight: p.weight.slice(), bias: p.bias.slice() }));
}

export function parameterCount(params: HeadParams): number {
  return params.reduce((n, p) => n + p.weight.length + p.bias.length, 0);
}

/**
 * Floating-point operations of one training sample through the head (a multiply-add counts 2): the forward
 * pass (2·in·out per layer), the weight gradients (2·in·out per layer) and the input gradients of every layer
 * but the first (the embeddings need none). Elementwise work (ReLU, softmax, the update) is left out: it is
 * memory-bound, and this count is the compute that a matrix-multiply rate bounds.
 */
export function trainingFlopsPerSample(dims: readonly number[] = HEAD_DIMS): number {
  let flops = 0;
  for (let l = 0; l + 1 < dims.length; l++) flops += 2 * dims[l] * dims[l + 1] * (l === 0 ? 2 : 3);
  return flops;
}
