/**
 * Small stand-in backbones for fast tests: same interface as ResNet-34 (input N×3×H×W, pooled
 * [N, 512] features, [N, 1000] logits) at a tiny fraction of its cost.
 */
import { GraphBuilder, type Dim } from '../onnx/graph.ts';
import { fillNormal, fillUniform, mulberry32 } from '../onnx/random.ts';

export interface TinyBackboneOptions {
  seed?: number;
  /** 'gemm' (transB=1, torch's Linear export), 'matmul' (MatMul + Add, weight stored [512, 1000]). */
  fc?: 'gemm' | 'matmul';
  /** Whether to expose the pooled features as an output named `features`. */
  featuresOutput?: boolean;
  channels?: number;
  inputShape?: Dim[];
  metadata?: Record<string, string>;
  /** Adds a 512→512 3×3 conv (stride 2): ~0.6 GMAC per 64×64 image, for tests that need runs to take time. */
  heavy?: boolean;
}

export function tinyBackbone(options: TinyBackboneOptions = {}): {
  bytes: Uint8Array;
  fcWeight: Float32Array;
  fcBias: Float32Array;
} {
  const { seed = 1, fc = 'gemm', featuresOutput = true, channels = 3 } = options;
  const random = mulberry32(seed);
  const g = new GraphBuilder('tiny-backbone');
  const x = g.input('input', 'float32', options.inputShape ?? ['N', channels, 'H', 'W']);
  const convW = fillNormal(new Float32Array(512 * channels * 9), 0.3, random);
  const conv = g.op('Conv', [x, g.initializer('conv.weight', 'float32', [512, channels, 3, 3], convW)], {
    kernel_shape: [3, 3],
    strides: [4, 4],
    pads: [1, 1, 1, 1],
  });
  let act = g.op('Relu', [conv]);
  if (options.heavy) {
    const w2 = fillNormal(new Float32Array(512 * 512 * 9), 0.02, random);
    act = g.op('Relu', [
      g.op('Conv', [act, g.initializer('conv2.weight', 'float32', [512, 512, 3, 3], w2)], {
        kernel_shape: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 1],
      }),
    ]);
  }
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [act])], { axis: 1 });
  const fcWeight = fillUniform(new Float32Array(1000 * 512), -0.04, 0.04, random); // [out, in]
  const fcBias = fillUniform(new Float32Array(1000), -0.04, 0.04, random);
  if (fc === 'gemm') {
    g.op(
      'Gemm',
      [
        pooled,
        g.initializer('fc.weight', 'float32', [1000, 512], fcWeight),
        g.initializer('fc.bias', 'float32', [1000], fcBias),
      ],
      { transB: 1 },
      { output: 'logits' },
    );
  } else {
    const wIn = new Float32Array(512 * 1000); // [in, out]
    for (let o = 0; o < 1000; o++) for (let i = 0; i < 512; i++) wIn[i * 1000 + o] = fcWeight[o * 512 + i];
    const mm = g.op('MatMul', [pooled, g.initializer('fc_w_t', 'float32', [512, 1000], wIn)]);
    g.op('Add', [mm, g.initializer('fc_b', 'float32', [1000], fcBias)], {}, { output: 'logits' });
  }
  if (featuresOutput) {
    g.op('Identity', [pooled], {}, { output: 'features' });
    g.output('features', 'float32', ['N', 512]);
  }
  g.output('logits', 'float32', ['N', 1000]);
  return { bytes: g.toBytes({ metadata: options.metadata }), fcWeight, fcBias };
}
