/**
 * The offline ResNet-34 backbone: torchvision's exact topology built as an ONNX graph in
 * TypeScript, with deterministic He initialisation from a seed ("untrained backbone").
 *
 * Why it exists: the paper (section 2.4) uses an ImageNet-pretrained ResNet-34, but weights cannot
 * be downloaded here. Users who have torchvision export one with `model-runner/export-resnet34.py`
 * and point `PLATINA_BACKBONE` at it; without one the runner builds this graph, and everything that
 * shows results says "untrained backbone" (metadata key `platina.backbone` = `untrained`).
 *
 * Topology (torchvision.models.resnet34): conv1 7×7/2 (no bias) → bn1 → relu → maxpool 3×3/2 →
 * layer1..4 of [3, 4, 6, 3] BasicBlocks with 64/128/256/512 channels (conv3×3/s → bn → relu →
 * conv3×3 → bn, plus the identity or a 1×1/2 conv+bn downsample, → add → relu) → global average
 * pool → `features` [N, 512] → fc 512→1000 → `logits` [N, 1000]. Initializers carry torchvision's
 * state_dict names (`layer2.0.downsample.0.weight`, …) so a test can load them into torchvision.
 *
 * Initialisation as torchvision's `ResNet.__init__`: convs kaiming_normal_(mode='fan_out',
 * nonlinearity='relu'), i.e. N(0, 2 / (out_channels·k·k)); BN weight 1, bias 0; fc as nn.Linear's
 * default, U(±1/√512) for weight and bias.
 *
 * BatchNorm in inference form, not folded: BatchNormalization nodes stay in the graph (ORT fuses
 * them into the convs when it optimises the session, so they cost nothing) and the parameter
 * count matches torchvision's 21 797 672. Running statistics: with mean 0 / var 1 every BN is the
 * identity and an untrained ResNet's residual stream grows at each block (x + f(x) with f of the
 * same scale as x): the pooled features come out hundreds of times larger than the input and
 * dominated by a few channels (measured in resnet34.test.ts). A torchvision model in train mode
 * normalises each BN by its batch statistics instead, so its activations stay at unit scale. We
 * reproduce that once, deterministically: `calibrateBatchNorm` runs the network with batch-stat
 * BN (same graph, BN replaced by its train-mode formula) on a seeded synthetic batch of smooth
 * grey images (our inputs are grey X-rays replicated to 3 channels, ImageNet-normalised) and
 * stores those batch statistics as the running mean/var — exactly torchvision's BN after one
 * training step with momentum 1, and what `model.train(); model(x)` computes for that batch.
 */
import ort from 'onnxruntime-node';
import { GraphBuilder, float, type ElemType } from '../onnx/graph.ts';
import { deriveSeed, fillNormal, fillUniform, mulberry32 } from '../onnx/random.ts';
import { toFloat16Array } from '../onnx/float16.ts';

export const RESNET34_BLOCKS = [3, 4, 6, 3] as const;
export const RESNET34_WIDTHS = [64, 128, 256, 512] as const;
export const FEATURE_DIM = 512;
export const NUM_CLASSES = 1000;
/** torchvision.models.resnet34().parameters() total (running statistics are buffers, not parameters). */
export const RESNET34_PARAMETER_COUNT = 21_797_672;
const BN_EPS = 1e-5;

/** Metadata keys every Platina backbone carries (read back by load.ts). */
export const BACKBONE_META = {
  kind: 'platina.backbone',
  seed: 'platina.backbone.seed',
  calibration: 'platina.backbone.bn_calibration',
} as const;
export const UNTRAINED = 'untrained';

export interface Weight {
  dims: number[];
  data: Float32Array;
}
/** torchvision state_dict-style weights, in graph order. */
export type Weights = Map<string, Weight>;

/** Whether a state_dict name is a BatchNorm buffer rather than a trainable parameter. */
export function isBuffer(name: string): boolean {
  return name.endsWith('.running_mean') || name.endsWith('.running_var');
}

/** Number of trainable parameters (torchvision counts BN weight/bias, not running statistics). */
export function countParameters(weights: Weights): number {
  let n = 0;
  for (const [name, w] of weights) if (!isBuffer(name)) n += w.data.length;
  return n;
}

/**
 * Deterministic torchvision-style initial weights. Each tensor draws from its own stream derived
 * from (seed, name), so adding a tensor never shifts the values of another.
 */
export function initResNet34Weights(seed: number): Weights {
  const weights: Weights = new Map();
  const conv = (name: string, out: number, inC: number, k: number) => {
    const data = new Float32Array(out * inC * k * k);
    fillNormal(data, Math.sqrt(2 / (out * k * k)), mulberry32(deriveSeed(seed, name)));
    weights.set(`${name}.weight`, { dims: [out, inC, k, k], data });
  };
  const bn = (name: string, c: number) => {
    weights.set(`${name}.weight`, { dims: [c], data: new Float32Array(c).fill(1) });
    weights.set(`${name}.bias`, { dims: [c], data: new Float32Array(c) });
    weights.set(`${name}.running_mean`, { dims: [c], data: new Float32Array(c) });
    weights.set(`${name}.running_var`, { dims: [c], data: new Float32Array(c).fill(1) });
  };
  conv('conv1', 64, 3, 7);
  bn('bn1', 64);
  let inC = 64;
  RESNET34_BLOCKS.forEach((blocks, s) => {
    const width = RESNET34_WIDTHS[s];
    for (let b = 0; b < blocks; b++) {
      const p = `layer${s + 1}.${b}`;
      conv(`${p}.conv1`, width, inC, 3);
      bn(`${p}.bn1`, width);
      conv(`${p}.conv2`, width, width, 3);
      bn(`${p}.bn2`, width);
      if (b === 0 && (s > 0 || inC !== width)) {
        conv(`${p}.downsample.0`, width, inC, 1);
        bn(`${p}.downsample.1`, width);
      }
      inC = width;
    }
  });
  const bound = 1 / Math.sqrt(FEATURE_DIM);
  const fcRandom = mulberry32(deriveSeed(seed, 'fc'));
  weights.set('fc.weight', {
    dims: [NUM_CLASSES, FEATURE_DIM],
    data: fillUniform(new Float32Array(NUM_CLASSES * FEATURE_DIM), -bound, bound, fcRandom),
  });
  weights.set('fc.bias', {
    dims: [NUM_CLASSES],
    data: fillUniform(new Float32Array(NUM_CLASSES), -bound, bound, fcRandom),
  });
  return weights;
}

/** A conv's weight and bias with the following inference-form BN folded in. */
function foldedConv(weights: Weights, convName: string, bnName: string): { weight: Weight; bias: Weight } {
  const cw = weights.get(`${convName}.weight`)!;
  const gamma = weights.get(`${bnName}.weight`)!.data;
  const beta = weights.get(`${bnName}.bias`)!.data;
  const mean = weights.get(`${bnName}.running_mean`)!.data;
  const variance = weights.get(`${bnName}.running_var`)!.data;
  const out = cw.dims[0];
  const per = cw.data.length / out;
  const data = new Float32Array(cw.data.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const scale = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    for (let i = 0; i < per; i++) data[o * per + i] = cw.data[o * per + i] * scale;
    bias[o] = beta[o] - mean[o] * scale;
  }
  return { weight: { dims: cw.dims, data }, bias: { dims: [out], data: bias } };
}

/**
 * Multiply–accumulates of one ResNet-34 forward pass at height × width (convs and fc; pooling,
 * BN, ReLU and additions are memory-bound and left out). FLOPs are 2 × MACs. At 224×224 this is
 * torchvision's 3.6 G; at the paper's 2000×1000 about 146 G ("150 GFLOP" in the issue counts MACs).
 */
export function resnet34Macs(height: number, width: number): number {
  const out = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;
  let h = out(height, 7, 2, 3);
  let w = out(width, 7, 2, 3);
  let macs = 64 * 3 * 49 * h * w;
  h = out(h, 3, 2, 1);
  w = out(w, 3, 2, 1);
  let inC = 64;
  RESNET34_BLOCKS.forEach((blocks, s) => {
    const c = RESNET34_WIDTHS[s];
    for (let b = 0; b < blocks; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const ho = out(h, 3, stride, 1);
      const wo = out(w, 3, stride, 1);
      macs += c * inC * 9 * ho * wo + c * c * 9 * ho * wo;
      if (b === 0 && s > 0) macs += c * inC * ho * wo;
      h = ho;
      w = wo;
      inC = c;
    }
  });
  return macs + FEATURE_DIM * NUM_CLASSES;
}

export interface BuildOptions {
  /** 'float16' stores weights as fp16 and computes in fp16 (inputs/outputs stay float32). */
  precision?: 'float32' | 'float16';
  /**
   * 'inference' (default): BatchNormalization with the stored running statistics.
   * 'batch-stats': BN normalises by the batch's own statistics (train-mode formula) and the graph
   * also outputs `<bn>.batch_mean` / `<bn>.batch_var` for every BN — used for calibration.
   */
  bnMode?: 'inference' | 'batch-stats';
  /**
   * Fold each inference-form BN into the conv before it (weight × γ/√(var+ε), bias β − mean·γ/√(var+ε)).
   * Same function, fewer nodes; used for the GPU experiments. The default keeps BN nodes so the
   * file mirrors torchvision's parameters (ORT folds them itself when it optimises the session).
   */
  foldBatchNorm?: boolean;
  metadata?: Record<string, string>;
}

/** Builds the ONNX model bytes for given weights. Input `input` [N, 3, H, W] float32. */
export function buildResNet34Model(weights: Weights, options: BuildOptions = {}): Uint8Array {
  const precision: ElemType = options.precision ?? 'float32';
  const bnMode = options.bnMode ?? 'inference';
  const g = new GraphBuilder('resnet34');
  const w = (name: string): string => {
    const t = weights.get(name);
    if (!t) throw new Error(`missing weight ${name}`);
    if (precision === 'float16') return g.initializer(name, 'float16', t.dims, toFloat16Array(t.data));
    return g.initializer(name, 'float32', t.dims, t.data);
  };
  const batchStatNames: string[] = [];
  const fold = options.foldBatchNorm === true && bnMode === 'inference';
  const folded = new Map<string, string>(); // conv output → the BN folded into it
  const bnOf = (convName: string) =>
    convName === 'conv1'
      ? 'bn1'
      : convName.endsWith('.downsample.0')
        ? convName.replace(/0$/, '1')
        : convName.replace(/conv(\d)$/, 'bn$1');
  const conv = (x: string, name: string, stride: number, pad: number): string => {
    const k = weights.get(`${name}.weight`)!.dims[2];
    const attrs = { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] };
    if (!fold) return g.op('Conv', [x, w(`${name}.weight`)], attrs);
    const bnName = bnOf(name);
    const { weight, bias } = foldedConv(weights, name, bnName);
    const add = (n: string, t: Weight) =>
      precision === 'float16'
        ? g.initializer(n, 'float16', t.dims, toFloat16Array(t.data))
        : g.initializer(n, 'float32', t.dims, t.data);
    const out = g.op('Conv', [x, add(`${name}.weight`, weight), add(`${name}.bias`, bias)], attrs);
    folded.set(out, bnName);
    return out;
  };
  const bn = (x: string, name: string): string => {
    if (fold) {
      if (folded.get(x) !== name) throw new Error(`cannot fold ${name}: its input is not its conv`);
      return x;
    }
    if (bnMode === 'inference') {
      return g.op(
        'BatchNormalization',
        [x, w(`${name}.weight`), w(`${name}.bias`), w(`${name}.running_mean`), w(`${name}.running_var`)],
        { epsilon: float(BN_EPS) },
      );
    }
    // Train-mode BN: per-channel mean/var over N, H, W (biased variance, as torch normalises with).
    // Opset 17: ReduceMean takes its axes as an attribute (an input only from opset 18).
    const mean = g.op('ReduceMean', [x], { axes: [0, 2, 3], keepdims: 1 });
    const centred = g.op('Sub', [x, mean]);
    const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred])], { axes: [0, 2, 3], keepdims: 1 });
    const eps =
      precision === 'float16'
        ? g.initializer(g.uniqueName('eps'), 'float16', [], toFloat16Array(Float32Array.of(BN_EPS)))
        : g.float32s([BN_EPS], [], 'eps');
    const normalised = g.op('Div', [centred, g.op('Sqrt', [g.op('Add', [variance, eps])])]);
    const c = weights.get(`${name}.weight`)!.dims[0];
    const shape = g.int64s([1, c, 1, 1], 'bn_shape');
    const scaled = g.op('Add', [
      g.op('Mul', [normalised, g.op('Reshape', [w(`${name}.weight`), shape])]),
      g.op('Reshape', [w(`${name}.bias`), shape]),
    ]);
    g.op('Flatten', [mean], { axis: 0 }, { output: `${name}.batch_mean` });
    g.op('Flatten', [variance], { axis: 0 }, { output: `${name}.batch_var` });
    batchStatNames.push(name);
    return scaled;
  };
  const relu = (x: string) => g.op('Relu', [x]);

  const input = g.input('input', 'float32', ['N', 3, 'H', 'W']);
  let x = precision === 'float16' ? g.op('Cast', [input], { to: 10 }) : input;
  x = relu(bn(conv(x, 'conv1', 2, 3), 'bn1'));
  x = g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  RESNET34_BLOCKS.forEach((blocks, s) => {
    for (let b = 0; b < blocks; b++) {
      const p = `layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      let out = relu(bn(conv(x, `${p}.conv1`, stride, 1), `${p}.bn1`));
      out = bn(conv(out, `${p}.conv2`, 1, 1), `${p}.bn2`);
      const identity = weights.has(`${p}.downsample.0.weight`)
        ? bn(conv(x, `${p}.downsample.0`, stride, 0), `${p}.downsample.1`)
        : x;
      x = relu(g.op('Add', [out, identity]));
    }
  });
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 });
  const logits = g.op('Gemm', [pooled, w('fc.weight'), w('fc.bias')], { transB: 1 });
  if (precision === 'float16') {
    g.op('Cast', [pooled], { to: 1 }, { output: 'features' });
    g.op('Cast', [logits], { to: 1 }, { output: 'logits' });
  } else {
    g.op('Identity', [pooled], {}, { output: 'features' });
    g.op('Identity', [logits], {}, { output: 'logits' });
  }
  g.output('features', 'float32', ['N', FEATURE_DIM]);
  g.output('logits', 'float32', ['N', NUM_CLASSES]);
  for (const name of batchStatNames) {
    const c = weights.get(`${name}.weight`)!.dims[0];
    g.output(`${name}.batch_mean`, precision, [1, c]);
    g.output(`${name}.batch_var`, precision, [1, c]);
  }
  return g.toBytes({
    metadata: options.metadata,
    docString: 'torchvision ResNet-34 topology, built by Platina',
  });
}

/**
 * A seeded batch of smooth grey "images", ImageNet-normalised and replicated to 3 channels:
 * a sum of bilinearly upsampled noise octaves (coarse to fine, amplitude ∝ scale), which has the
 * strong spatial correlation of real images that white noise lacks. Data-independent on purpose:
 * the backbone's identity (its hash) must not depend on the dataset.
 */
export function calibrationBatch(seed: number, n: number, height: number, width: number): Float32Array {
  const out = new Float32Array(n * 3 * height * width);
  const random = mulberry32(deriveSeed(seed, 'calibration'));
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const plane = new Float32Array(height * width);
  for (let i = 0; i < n; i++) {
    plane.fill(0);
    for (const cells of [2, 4, 8, 16, 32, 64]) {
      const gh = cells + 1;
      const gw = cells + 1;
      const grid = fillNormal(new Float32Array(gh * gw), 1 / Math.sqrt(cells), random);
      for (let y = 0; y < height; y++) {
        const fy = (y / (height - 1)) * cells;
        const y0 = Math.min(Math.floor(fy), cells - 1);
        const ty = fy - y0;
        for (let x = 0; x < width; x++) {
          const fx = (x / (width - 1)) * cells;
          const x0 = Math.min(Math.floor(fx), cells - 1);
          const tx = fx - x0;
          const a = grid[y0 * gw + x0] * (1 - tx) + grid[y0 * gw + x0 + 1] * tx;
          const b = grid[(y0 + 1) * gw + x0] * (1 - tx) + grid[(y0 + 1) * gw + x0 + 1] * tx;
          plane[y * width + x] += a * (1 - ty) + b * ty;
        }
      }
    }
    // Map to grey levels in [0, 1] around mid-grey with a realistic contrast, plus sensor noise.
    let m = 0;
    let s = 0;
    for (const v of plane) m += v;
    m /= plane.length;
    for (const v of plane) s += (v - m) ** 2;
    s = Math.sqrt(s / plane.length) || 1;
    for (let c = 0; c < 3; c++) {
      const base = (i * 3 + c) * height * width;
      for (let p = 0; p < plane.length; p++) {
        const grey = Math.min(1, Math.max(0, 0.5 + (0.15 * (plane[p] - m)) / s));
        out[base + p] = (grey - mean[c]) / std[c];
      }
    }
    // Per-pixel noise shared by the 3 channels (they are one grey image).
    for (let p = 0; p < plane.length; p++) {
      const noise = (random() - 0.5) * 0.02;
      for (let c = 0; c < 3; c++) out[(i * 3 + c) * height * width + p] += noise / std[c];
    }
  }
  return out;
}

export interface CalibrationOptions {
  seed: number;
  batch?: number;
  height?: number;
  width?: number;
}

/**
 * Sets every BN's running mean/var to the batch statistics of a seeded calibration batch, so the
 * untrained network keeps unit-scale activations (see the module comment). Mutates `weights`.
 */
export async function calibrateBatchNorm(weights: Weights, options: CalibrationOptions): Promise<void> {
  const { batch = 4, height = 128, width = 128 } = options;
  const bytes = buildResNet34Model(weights, { bnMode: 'batch-stats' });
  // One thread: the reductions' float rounding then does not depend on the machine's core count,
  // so the same seed gives the same bytes (and backbone hash) on this machine and others alike.
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
  });
  try {
    const x = calibrationBatch(options.seed, batch, height, width);
    const out = await session.run({ input: new ort.Tensor('float32', x, [batch, 3, height, width]) });
    for (const name of session.outputNames) {
      const m = /^(.*)\.batch_(mean|var)$/.exec(name);
      if (!m) continue;
      const data = Float32Array.from(out[name].data as Float32Array);
      // Stored as the biased variance (what train-mode BN normalises with; torch's running_var
      // keeps the unbiased one) so inference reproduces the train-mode activations exactly.
      weights.get(`${m[1]}.running_${m[2]}`)!.data.set(data);
    }
  } finally {
    await session.release();
  }
}

export interface UntrainedBackbone {
  bytes: Uint8Array;
  weights: Weights;
  seed: number;
}

/**
 * The offline default backbone: seeded torchvision initialisation, BN calibrated as documented
 * above, marked untrained in its metadata. Deterministic: same seed, same bytes.
 */
export async function buildUntrainedResNet34(
  seed = 0,
  precision: 'float32' | 'float16' = 'float32',
): Promise<UntrainedBackbone> {
  const weights = initResNet34Weights(seed);
  await calibrateBatchNorm(weights, { seed });
  const bytes = buildResNet34Model(weights, {
    precision,
    metadata: {
      [BACKBONE_META.kind]: UNTRAINED,
      [BACKBONE_META.seed]: String(seed),
      [BACKBONE_META.calibration]: 'batch statistics of 4 seeded synthetic grey 128x128 images',
    },
  });
  return { bytes, weights, seed };
}
