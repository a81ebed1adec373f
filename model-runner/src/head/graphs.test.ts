import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
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
import { HEAD_DIMS, initHead } from './params.ts';
import type { HeadParams } from './params.ts';
import { referenceLossAndGradients, referenceProbabilities } from './reference.ts';
import { createRandom } from './random.ts';

const random = createRandom(2022);
const batch = 8;
const x = Float32Array.from({ length: batch * HEAD_DIMS[0] }, () => Math.abs(random.normal())); // pooled ReLU features are ≥ 0
const labels = [0, 1, 0, 0, 1, 0, 1, 0];
const params = initHead({ seed: 5 });
// He-initialised biases are 0; give them values so the bias paths are exercised.
for (const layer of params) for (let k = 0; k < layer.bias.length; k++) layer.bias[k] = random.normal() * 0.1;

const trainingSession = ort.InferenceSession.create(buildTrainingGraph(HEAD_DIMS, 0.9));

/** Runs one training step of the ONNX graph from the given momentum state (s = lr·v). */
async function step(
  head: HeadParams,
  state: (l: number, which: 'weight' | 'bias') => Float32Array,
  learningRate: number,
  sampleWeights: number[],
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const feeds: Record<string, ort.Tensor> = {
    [TRAIN_INPUTS.embeddings]: new ort.Tensor('float32', x, [batch, HEAD_DIMS[0]]),
    [TRAIN_INPUTS.targets]: new ort.Tensor(
      'float32',
      Float32Array.from(labels.flatMap((y) => (y ? [0, 1] : [1, 0]))),
      [batch, 2],
    ),
    [TRAIN_INPUTS.sampleWeights]: new ort.Tensor('float32', Float32Array.from(sampleWeights), [batch]),
    [TRAIN_INPUTS.learningRate]: new ort.Tensor('float32', Float32Array.of(learningRate), []),
  };
  head.forEach((layer, l) => {
    const n = stateNames(l);
    feeds[n.weight] = new ort.Tensor('float32', layer.weight, [layer.inputs, layer.outputs]);
    feeds[n.bias] = new ort.Tensor('float32', layer.bias, [layer.outputs]);
    feeds[n.weightStep] = new ort.Tensor('float32', state(l, 'weight'), [layer.inputs, layer.outputs]);
    feeds[n.biasStep] = new ort.Tensor('float32', state(l, 'bias'), [layer.outputs]);
  });
  return (await trainingSession).run(feeds);
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let k = 0; k < expected.length; k++) scale = Math.max(scale, Math.abs(expected[k]));
  for (let k = 0; k < expected.length; k++) {
    // Message built only on failure: formatting a million messages would dominate the test's time.
    if (Math.abs(actual[k] - expected[k]) > tolerance * (scale + 1e-12))
      assert.fail(`${what}[${k}]: ${actual[k]} vs ${expected[k]} (scale ${scale})`);
  }
}

describe('ONNX head graphs (paper head 512→1000→512→256→2)', () => {
  test('a step from zero momentum at lr 1 outputs the reference gradients as its step, and the reference loss', async () => {
    const weights = labels.map((y) => (y ? 2.5 : 1));
    const out = await step(
      params,
      (l, w) => new Float32Array(w === 'weight' ? params[l].weight.length : params[l].bias.length),
      1,
      weights,
    );
    const ref = referenceLossAndGradients(params, x, labels, weights);
    assert.ok(Math.abs((out[TRAIN_LOSS].data as Float32Array)[0] - ref.loss) < 1e-5 * Math.max(1, ref.loss));
    params.forEach((_, l) => {
      const n = stateNames(l);
      assertClose(
        out[nextName(n.weightStep)].data as Float32Array,
        ref.gradients[l].weight,
        1e-4,
        `fc${l} weight grad`,
      );
      assertClose(
        out[nextName(n.biasStep)].data as Float32Array,
        ref.gradients[l].bias,
        1e-4,
        `fc${l} bias grad`,
      );
    });
  });

  test('the update is PyTorch SGD with momentum: v ← 0.9·v + g, θ ← θ − lr·v (state s = lr·v)', async () => {
    const lr = 0.05;
    const velocityOf = (l: number, w: 'weight' | 'bias') =>
      Float32Array.from(
        { length: w === 'weight' ? params[l].weight.length : params[l].bias.length },
        (_, k) => Math.sin(k + l) * 0.01,
      );
    const weights = labels.map(() => 1);
    const out = await step(params, (l, w) => velocityOf(l, w).map((v) => lr * v), lr, weights);
    const ref = referenceLossAndGradients(params, x, labels, weights);
    params.forEach((layer, l) => {
      const n = stateNames(l);
      const v = velocityOf(l, 'weight');
      const expectedV = v.map((vk, k) => 0.9 * vk + ref.gradients[l].weight[k]);
      const expectedW = layer.weight.map((wk, k) => wk - lr * expectedV[k]);
      assertClose(
        out[nextName(n.weightStep)].data as Float32Array,
        expectedV.map((vk) => lr * vk),
        1e-4,
        `fc${l} step`,
      );
      assertClose(out[nextName(n.weight)].data as Float32Array, expectedW, 1e-5, `fc${l} weight`);
      const vb = velocityOf(l, 'bias');
      const expectedB = layer.bias.map((bk, k) => bk - lr * (0.9 * vb[k] + ref.gradients[l].bias[k]));
      assertClose(out[nextName(n.bias)].data as Float32Array, expectedB, 1e-5, `fc${l} bias`);
    });
  });

  test('the inference graph reproduces the plain-TS reference forward within 1e-5', async () => {
    const session = await ort.InferenceSession.create(buildInferenceGraph(params).toBytes());
    const out = await session.run({ [INFERENCE_INPUT]: new ort.Tensor('float32', x, [batch, HEAD_DIMS[0]]) });
    const p = out[INFERENCE_OUTPUT].data as Float32Array;
    const expected = referenceProbabilities(params, x, batch);
    for (let k = 0; k < expected.length; k++)
      assert.ok(Math.abs(p[k] - expected[k]) < 1e-5, `p[${k}] ${p[k]} vs ${expected[k]}`);
    await session.release();
  });
});
