/**
 * The backbone the runner embeds with: a user's torchvision export (`PLATINA_BACKBONE=/path.onnx`,
 * made with `model-runner/export-resnet34.py`) or, without one, the offline untrained ResNet-34.
 *
 * A user file is checked before use, and every problem is named in one error (a wrong input shape,
 * a missing 512-d output, …) so a bad export is fixed in one round. Its identity for the
 * embeddings cache is the sha256 of its bytes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  aiOnnxOpset,
  decodeModel,
  describeValueInfo,
  encodeModel,
  modelMetadata,
  onnx,
  tensorDims,
  tensorToFloat32,
  toNumber,
  valueInfo,
  type Dim,
  type ModelProto,
} from '../onnx/graph.ts';
import { BACKBONE_META, FEATURE_DIM, NUM_CLASSES, UNTRAINED, buildUntrainedResNet34 } from './resnet34.ts';

export class BackboneError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'BackboneError';
  }
}

export interface Backbone {
  /** Model bytes to open with onnxruntime (a `features` output added when the file lacked one). */
  bytes: Uint8Array;
  /** sha256 (hex) of the file's original bytes: the backbone's identity in caches and model versions. */
  hash: string;
  /** True for the offline untrained ResNet-34: everything that shows results must say so. */
  untrained: boolean;
  /** Human-readable origin, e.g. "untrained ResNet-34 (seed 0)" or the file path. */
  description: string;
  inputName: string;
  /** Output with the pooled [N, 512] features. */
  featuresName: string;
  /** Output with the ImageNet [N, 1000] logits, when the model has one. */
  logitsName?: string;
  /** Fixed input height/width the file requires, or null when dynamic. */
  inputHeight: number | null;
  inputWidth: number | null;
}

/**
 * The oldest ai.onnx opset a backbone may use: the embedder prepends the flips to its graph as Slice
 * nodes with step −1 (embeddings/flip-graph.ts), and Slice has steps from opset 10 on.
 */
export const MIN_BACKBONE_OPSET = 10;

export interface FcWeights {
  /** [1000, 512] row-major: out × in (torch.nn.Linear's layout). */
  weight: Float32Array;
  /** [1000]. */
  bias: Float32Array;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const isFixed = (d: Dim | undefined): d is number => typeof d === 'number' && d > 0;
const showShape = (s: Dim[] | undefined) =>
  s ? `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]` : 'unknown shape';

/**
 * Checks a backbone model and describes it. Requirements: one float32 input N×3×H×W (H and W
 * dynamic, or equal to `inputSize` when given); an output of [N, 512] features (named `features`,
 * or any 2-D output ending in 512) and/or [N, 1000] logits. With logits only, the input of the
 * final fully connected layer becomes the features output. Throws BackboneError listing every
 * problem found.
 */
export function validateBackbone(
  bytes: Uint8Array,
  source: string,
  inputSize?: { height: number; width: number },
): Backbone {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new BackboneError(`${source} is not an ONNX model (${(err as Error).message})`);
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0)
    throw new BackboneError(`${source} is not an ONNX model (no graph)`);
  const problems: string[] = [];
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name));
  if ((graph.initializer ?? []).some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)) {
    problems.push('weights are stored as external data; export one self-contained .onnx file');
  }

  const opset = aiOnnxOpset(model);
  if (opset < MIN_BACKBONE_OPSET)
    problems.push(
      `ai.onnx opset ${opset || 'none'} is older than ${MIN_BACKBONE_OPSET}; export with --opset 17 (export-resnet34.py's default)`,
    );

  const inputs = (graph.input ?? []).filter((v) => !initNames.has(v.name)).map(describeValueInfo);
  let inputHeight: number | null = null;
  let inputWidth: number | null = null;
  if (inputs.length !== 1) {
    problems.push(
      `expected one input (N×3×H×W float32 image), found ${inputs.length}: ${inputs.map((i) => i.name).join(', ') || 'none'}`,
    );
  } else {
    const { name, elemType, shape } = inputs[0];
    if (elemType !== 'float32') problems.push(`input ${name} must be float32, not ${elemType}`);
    if (!shape || shape.length !== 4) problems.push(`input ${name} must be N×3×H×W, not ${showShape(shape)}`);
    else {
      if (shape[1] !== 3)
        problems.push(
          `input ${name} must have 3 channels (dimension 1), not ${shape[1] ?? '?'}: ${showShape(shape)}`,
        );
      if (isFixed(shape[2])) inputHeight = shape[2];
      if (isFixed(shape[3])) inputWidth = shape[3];
      if (
        inputSize &&
        ((inputHeight !== null && inputHeight !== inputSize.height) ||
          (inputWidth !== null && inputWidth !== inputSize.width))
      ) {
        problems.push(
          `input ${name} is fixed at ${showShape(shape)} but PLATINA_INPUT_SIZE is ${inputSize.height}x${inputSize.width}; export with dynamic height and width (export-resnet34.py does)`,
        );
      }
    }
  }

  const outputs = (graph.output ?? []).map(describeValueInfo);
  const lastDim = (s: Dim[] | undefined) => (s && s.length === 2 ? s[1] : undefined);
  const features =
    outputs.find((o) => o.name === 'features') ?? outputs.find((o) => lastDim(o.shape) === FEATURE_DIM);
  const logits =
    outputs.find((o) => o.name === 'logits') ?? outputs.find((o) => lastDim(o.shape) === NUM_CLASSES);
  for (const [o, dim, what] of [
    [features, FEATURE_DIM, 'features'],
    [logits, NUM_CLASSES, 'logits'],
  ] as const) {
    if (o && (o.elemType !== 'float32' || (o.shape && lastDim(o.shape) !== dim))) {
      problems.push(
        `output ${o.name} (${what}) must be float32 [N, ${dim}], not ${o.elemType} ${showShape(o.shape)}`,
      );
    }
  }
  let featuresName = features?.name;
  let outBytes = bytes;
  if (!features && logits) {
    // Logits only (e.g. a plain torchvision export): expose the fc layer's input as the features.
    const fc = findFcNode(model, logits.name);
    if (fc) {
      featuresName = fc.input![0];
      graph.output!.push(valueInfo(featuresName, 'float32', ['N', FEATURE_DIM]));
      outBytes = encodeModel(model);
    }
  }
  if (!featuresName) {
    problems.push(
      `no [N, ${FEATURE_DIM}] features output and no [N, ${NUM_CLASSES}] logits from a fully connected layer; outputs are ${
        outputs.map((o) => `${o.name} ${showShape(o.shape)}`).join(', ') || 'none'
      }`,
    );
  }
  if (problems.length > 0) {
    throw new BackboneError(
      `${source} cannot serve as the backbone:\n  - ${problems.join('\n  - ')}`,
      problems,
    );
  }
  const meta = modelMetadata(model);
  const untrained = meta[BACKBONE_META.kind] === UNTRAINED;
  return {
    bytes: outBytes,
    hash: sha256Hex(bytes),
    untrained,
    description: untrained ? `untrained ResNet-34 (seed ${meta[BACKBONE_META.seed] ?? '?'})` : source,
    inputName: inputs[0].name,
    featuresName: featuresName!,
    logitsName: logits?.name,
    inputHeight,
    inputWidth,
  };
}

/** The Gemm/MatMul node whose result (through Identity/Add nodes) is `outputName`. */
function findFcNode(model: ModelProto, outputName: string) {
  const nodes = model.graph?.node ?? [];
  const producer = new Map<string, (typeof nodes)[number]>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  let name = outputName;
  for (let hops = 0; hops < 4; hops++) {
    const n = producer.get(name);
    if (!n) return undefined;
    if (n.opType === 'Gemm' || n.opType === 'MatMul') return n;
    if (n.opType !== 'Identity' && n.opType !== 'Add' && n.opType !== 'Cast') return undefined;
    // Add(MatMul(x, W), b): follow the non-initializer operand.
    const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
    const next = (n.input ?? []).find((i) => !inits.has(i));
    if (!next) return undefined;
    name = next;
  }
  return undefined;
}

/**
 * The final fully connected layer (512→1000) of a backbone, read from its initializers, for
 * initialising the head's first layer (paper 2.4: the head starts at the backbone's fc). Handles
 * Gemm (transB 0 or 1, with or without bias) and MatMul(+Add) as torch exports write them.
 * Returns undefined when the model has no such layer with constant weights.
 */
export function extractFcWeights(bytes: Uint8Array | ModelProto): FcWeights | undefined {
  const model = bytes instanceof Uint8Array ? decodeModel(bytes) : bytes;
  const graph = model.graph;
  if (!graph) return undefined;
  const outputs = (graph.output ?? []).map(describeValueInfo);
  const logits =
    outputs.find((o) => o.name === 'logits') ??
    outputs.find((o) => o.shape?.length === 2 && o.shape[1] === NUM_CLASSES);
  if (!logits) return undefined;
  const fc = findFcNode(model, logits.name);
  if (!fc) return undefined;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name, t]));
  const wT = inits.get(fc.input?.[1]);
  if (!wT || wT.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
  const dims = tensorDims(wT);
  const data = tensorToFloat32(wT);
  const transB =
    fc.opType === 'Gemm' &&
    (fc.attribute ?? []).some((a) => a.name === 'transB' && toNumber(a.i as number) === 1);
  let weight: Float32Array;
  if (transB && dims[0] === NUM_CLASSES && dims[1] === FEATURE_DIM) weight = data;
  else if (!transB && dims[0] === FEATURE_DIM && dims[1] === NUM_CLASSES) {
    weight = new Float32Array(NUM_CLASSES * FEATURE_DIM); // [512, 1000] → [1000, 512]
    for (let i = 0; i < FEATURE_DIM; i++)
      for (let o = 0; o < NUM_CLASSES; o++) weight[o * FEATURE_DIM + i] = data[i * NUM_CLASSES + o];
  } else return undefined;
  // Bias: Gemm's C, or the initializer operand of an Add consuming the MatMul.
  let biasName: string | undefined = fc.opType === 'Gemm' ? fc.input?.[2] : undefined;
  if (fc.opType === 'MatMul') {
    const add = (graph.node ?? []).find((n) => n.opType === 'Add' && (n.input ?? []).includes(fc.output![0]));
    biasName = add?.input?.find((i) => inits.has(i));
  }
  const bT = biasName ? inits.get(biasName) : undefined;
  const bias =
    bT &&
    bT.dataType === onnx.TensorProto.DataType.FLOAT &&
    tensorDims(bT).reduce((a, b) => a * b, 1) === NUM_CLASSES
      ? tensorToFloat32(bT)
      : new Float32Array(NUM_CLASSES);
  return { weight, bias };
}

/** Parses `PLATINA_INPUT_SIZE=HxW` (default: the paper's 2000x1000, height × width). */
export function parseInputSize(raw: string | undefined): { height: number; width: number } {
  if (raw === undefined || raw.trim() === '') return { height: 2000, width: 1000 };
  const m = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(raw);
  const height = m ? Number(m[1]) : NaN;
  const width = m ? Number(m[2]) : NaN;
  if (!m || height < 32 || width < 32 || height > 8192 || width > 8192) {
    throw new BackboneError(
      `PLATINA_INPUT_SIZE=${JSON.stringify(raw)} is invalid: expected HEIGHTxWIDTH, each 32 to 8192 (e.g. 2000x1000)`,
    );
  }
  return { height, width };
}

const untrainedCache = new Map<number, Promise<Backbone>>();

/**
 * The backbone for this process: `PLATINA_BACKBONE` when set (validated), else the offline
 * untrained ResNet-34 built from `PLATINA_BACKBONE_SEED` (default 0), memoised per seed.
 */
export async function loadBackbone(env: NodeJS.ProcessEnv = process.env): Promise<Backbone> {
  const inputSize = parseInputSize(env.PLATINA_INPUT_SIZE);
  const file = env.PLATINA_BACKBONE?.trim();
  if (file) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw new BackboneError(`PLATINA_BACKBONE=${file} cannot be read: ${(err as Error).message}`);
    }
    return validateBackbone(bytes, `PLATINA_BACKBONE=${file}`, inputSize);
  }
  const seed = Number(env.PLATINA_BACKBONE_SEED ?? 0);
  if (!Number.isInteger(seed) || seed < 0)
    throw new BackboneError(
      `PLATINA_BACKBONE_SEED=${env.PLATINA_BACKBONE_SEED} is invalid: expected a non-negative integer`,
    );
  let p = untrainedCache.get(seed);
  if (!p) {
    p = buildUntrainedResNet34(seed).then(({ bytes }) => validateBackbone(bytes, 'untrained ResNet-34'));
    untrainedCache.set(seed, p);
  }
  return p;
}
