import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { ANOMALY_CODES } from '../../../lib/anomaly-types.ts';
import {
  buildInferenceGraph,
  buildTrainingGraph,
  nextName,
  stateNames,
  TRAIN_INPUTS,
  TRAIN_LOSS,
} from './graphs.ts';
import {
  ANOMALY_HEAD_DIMS,
  anomalyLabels,
  anomalyList,
  priorBiases,
  scoreAnomalies,
  trainAnomalyHead,
} from './multilabel.ts';
import { initHead } from './params.ts';
import { createRandom } from './random.ts';
import { referenceMultiLabelLossAndGradients, referenceSigmoidProbabilities } from './reference.ts';
import { FLIP_VARIANTS } from './train.ts';
import type { EmbeddingTable } from './train.ts';
import { assertGradientsMatchFiniteDifferences } from './gradient-check.ts';

const K = ANOMALY_CODES.length;

describe('float64 reference of the multi-label (sigmoid) head', () => {
  test('hand-derived gradients agree with central finite differences for every parameter', () => {
    const random = createRandom(17);
    const dims = [5, 6, 4, 3];
    const layers = dims.slice(1).map((outputs, l) => ({
      inputs: dims[l],
      outputs,
      weight: Float64Array.from({ length: dims[l] * outputs }, () => random.normal() * 0.8),
      bias: Float64Array.from({ length: outputs }, () => random.normal() * 0.3),
    }));
    const batch = 5;
    const x = Float64Array.from({ length: batch * 5 }, () => random.normal());
    // Several types per sample, none, and one fractional target: the loss is defined for all of them.
    const targets = [1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0.5, 0, 1];
    const weights = [1, 2, 1, 0.5, 1];
    const { gradients } = referenceMultiLabelLossAndGradients(layers, x, targets, batch, weights);
    const checked = assertGradientsMatchFiniteDifferences(
      layers,
      gradients,
      () => referenceMultiLabelLossAndGradients(layers, x, targets, batch, weights).loss,
    );
    assert.equal(checked, 5 * 6 + 6 + 6 * 4 + 4 + 4 * 3 + 3);
  });

  test('the loss is the weighted mean over samples of the binary cross-entropy summed over outputs', () => {
    const layers = [{ inputs: 2, outputs: 2, weight: [1, 0, 0, -2], bias: [0, 0.5] }];
    const x = [0.3, 0.4, -1, 2];
    const t = [1, 0, 0, 1];
    const p = referenceSigmoidProbabilities(layers, x, 2);
    const bce = (q: number, y: number) => -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
    const expected = (3 * (bce(p[0], 1) + bce(p[1], 0)) + 1 * (bce(p[2], 0) + bce(p[3], 1))) / (3 + 1);
    const { loss } = referenceMultiLabelLossAndGradients(layers, x, t, 2, [3, 1]);
    assert.ok(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
    assert.ok(Math.abs(p[0] - 1 / (1 + Math.exp(-0.3))) < 1e-15);
  });
});

describe('ONNX graphs of the anomaly-type head (512→256→11, sigmoid)', () => {
  const random = createRandom(99);
  const batch = 6;
  const x = Float32Array.from({ length: batch * 512 }, () => Math.abs(random.normal()));
  const targets = Float32Array.from({ length: batch * K }, () => (random.next() < 0.2 ? 1 : 0));
  const params = initHead({ seed: 3, dims: ANOMALY_HEAD_DIMS });
  for (const layer of params)
    for (let k = 0; k < layer.bias.length; k++) layer.bias[k] = random.normal() * 0.1;

  test('a step from zero momentum at lr 1 outputs the reference loss and gradients as its step', async () => {
    const session = await ort.InferenceSession.create(buildTrainingGraph(ANOMALY_HEAD_DIMS, 0.9, 'sigmoid'));
    const weights = [1, 1, 2, 1, 0.5, 1];
    const feeds: Record<string, ort.Tensor> = {
      [TRAIN_INPUTS.embeddings]: new ort.Tensor('float32', x, [batch, 512]),
      [TRAIN_INPUTS.targets]: new ort.Tensor('float32', targets, [batch, K]),
      [TRAIN_INPUTS.sampleWeights]: new ort.Tensor('float32', Float32Array.from(weights), [batch]),
      [TRAIN_INPUTS.learningRate]: new ort.Tensor('float32', Float32Array.of(1), []),
    };
    params.forEach((layer, l) => {
      const n = stateNames(l);
      feeds[n.weight] = new ort.Tensor('float32', layer.weight, [layer.inputs, layer.outputs]);
      feeds[n.bias] = new ort.Tensor('float32', layer.bias, [layer.outputs]);
      feeds[n.weightStep] = new ort.Tensor('float32', new Float32Array(layer.weight.length), [
        layer.inputs,
        layer.outputs,
      ]);
      feeds[n.biasStep] = new ort.Tensor('float32', new Float32Array(layer.bias.length), [layer.outputs]);
    });
    const out = await session.run(feeds);
    const ref = referenceMultiLabelLossAndGradients(params, x, targets, batch, weights);
    const loss = (out[TRAIN_LOSS].data as Float32Array)[0];
    assert.ok(Math.abs(loss - ref.loss) < 1e-5 * Math.max(1, ref.loss), `${loss} vs ${ref.loss}`);
    params.forEach((_, l) => {
      const n = stateNames(l);
      for (const [name, expected] of [
        [n.weightStep, ref.gradients[l].weight],
        [n.biasStep, ref.gradients[l].bias],
      ] as const) {
        const actual = out[nextName(name)].data as Float32Array;
        const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(scale > 0, `${name}: the gradient is not all zero`);
        for (let k = 0; k < expected.length; k++)
          if (Math.abs(actual[k] - expected[k]) > 1e-4 * scale)
            assert.fail(`${name}[${k}]: ${actual[k]} vs ${expected[k]}`);
      }
    });
    await session.release();
  });

  test('the loss stays finite for logits far beyond float32 exp range (softplus form)', async () => {
    const dims = [2, 2];
    const session = await ort.InferenceSession.create(buildTrainingGraph(dims, 0.9, 'sigmoid'));
    const n = stateNames(0);
    const out = await session.run({
      [TRAIN_INPUTS.embeddings]: new ort.Tensor('float32', Float32Array.of(1, 1), [1, 2]),
      [TRAIN_INPUTS.targets]: new ort.Tensor('float32', Float32Array.of(0, 1), [1, 2]),
      [TRAIN_INPUTS.sampleWeights]: new ort.Tensor('float32', Float32Array.of(1), [1]),
      [TRAIN_INPUTS.learningRate]: new ort.Tensor('float32', Float32Array.of(0), []),
      // logits (200, −200): both outputs confidently wrong; log σ(−200) must not be log(0).
      [n.weight]: new ort.Tensor('float32', Float32Array.of(100, -100, 100, -100), [2, 2]),
      [n.bias]: new ort.Tensor('float32', Float32Array.of(0, 0), [2]),
      [n.weightStep]: new ort.Tensor('float32', new Float32Array(4), [2, 2]),
      [n.biasStep]: new ort.Tensor('float32', new Float32Array(2), [2]),
    });
    const loss = (out[TRAIN_LOSS].data as Float32Array)[0];
    assert.ok(Math.abs(loss - 400) < 1e-3, `loss ${loss}`);
    await session.release();
  });

  test('the inference graph gives σ(logits) per type, within 1e-5 of the reference', async () => {
    const session = await ort.InferenceSession.create(buildInferenceGraph(params, 'sigmoid').toBytes());
    const out = await session.run({ embeddings: new ort.Tensor('float32', x, [batch, 512]) });
    const p = out.probabilities.data as Float32Array;
    const expected = referenceSigmoidProbabilities(params, x, batch);
    assert.equal(p.length, batch * K);
    for (let k = 0; k < expected.length; k++)
      assert.ok(Math.abs(p[k] - expected[k]) < 1e-5, `p[${k}] ${p[k]} vs ${expected[k]}`);
    await session.release();
  });
});

describe('anomaly-type targets', () => {
  test('the label set is the target row for every verdict; an abnormal image without a type is left out', () => {
    const labels = anomalyLabels([
      { verdict: 'normal', anomalies: [] },
      { verdict: 'normal', anomalies: ['smudges'] },
      { verdict: 'abnormal', anomalies: ['scratches', 'ink_entry_exit'] },
      { verdict: 'abnormal', anomalies: [] },
    ]);
    const row = (i: number) => Array.from(labels.targets.subarray(i * K, (i + 1) * K));
    assert.deepEqual(row(0), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(row(1), [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(row(2), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(labels.known), [1, 1, 1, 0]);
    assert.throws(
      () => anomalyLabels([{ verdict: 'abnormal', anomalies: ['dents'] }]),
      /unknown anomaly type "dents"/,
    );
  });

  test('initial output biases are the log-odds of each type’s smoothed training share', () => {
    const labels = anomalyLabels([
      { verdict: 'abnormal', anomalies: ['scratches'] },
      { verdict: 'normal', anomalies: [] },
      { verdict: 'normal', anomalies: [] },
    ]);
    const b = priorBiases(labels, [0, 1, 2]);
    // scratches: (1 + 0.5) / (3 + 1) = 0.375; every other type: 0.5 / 4 = 0.125.
    assert.ok(Math.abs(b[0] - Math.log(0.375 / 0.625)) < 1e-6);
    assert.ok(Math.abs(b[1] - Math.log(0.125 / 0.875)) < 1e-6);
  });
});

/**
 * A separable toy problem: type t is present in an image when bit t of a random code is set (about 30 % each,
 * several types per image), and a present type raises embedding features [16t, 16t + 16) by 2.
 */
function toyTypes(
  images: number,
  seed: number,
): { table: EmbeddingTable; rows: { verdict: 'normal' | 'abnormal'; anomalies: string[] }[] } {
  const random = createRandom(seed);
  const dim = 512;
  const vectors = new Float32Array(images * FLIP_VARIANTS * dim);
  const rows = [];
  for (let i = 0; i < images; i++) {
    const present = ANOMALY_CODES.filter(() => random.next() < 0.3);
    rows.push({
      verdict: present.length ? ('abnormal' as const) : ('normal' as const),
      anomalies: [...present],
    });
    const base = Float32Array.from({ length: dim }, () => Math.abs(random.normal()));
    for (const code of present) {
      const t = ANOMALY_CODES.indexOf(code);
      for (let d = 16 * t; d < 16 * t + 16; d++) base[d] += 2;
    }
    for (let v = 0; v < FLIP_VARIANTS; v++)
      for (let d = 0; d < dim; d++)
        vectors[(i * FLIP_VARIANTS + v) * dim + d] = base[d] * (1 + 0.05 * random.normal());
  }
  return { table: { vectors, images, variants: FLIP_VARIANTS, dim }, rows };
}

test('the anomaly-type head learns a separable multi-label problem and gets every held-out type right', async () => {
  const { table, rows } = toyTypes(240, 4);
  const labels = anomalyLabels(rows);
  const train = Array.from({ length: 200 }, (_, i) => i);
  const held = Array.from({ length: 40 }, (_, i) => 200 + i);
  // A faster schedule than the paper's (lr 0.001 for 10 epochs) so that a 200-image toy converges in a second.
  const trained = await trainAnomalyHead(table, labels, train, {
    seed: 1,
    learningRate: 0.01,
    epochs: 30,
    decayEvery: 30,
  });
  assert.ok(trained);
  assert.ok(
    trained.losses.at(-1)! < 0.25 * trained.losses[0],
    `loss ${trained.losses[0]} → ${trained.losses.at(-1)}`,
  );
  const p = await scoreAnomalies(trained.params, table, held);
  let wrong = 0;
  held.forEach((image, j) =>
    anomalyList(p, j).forEach(({ code, p: q }) => {
      assert.ok(q >= 0 && q <= 1);
      if (q > 0.5 !== rows[image].anomalies.includes(code)) wrong++;
    }),
  );
  assert.equal(wrong, 0, `${wrong} of ${held.length * K} held-out type decisions wrong`);
});

test('images whose types are unknown do not train the head; none known → no head', async () => {
  const { table, rows } = toyTypes(8, 5);
  const unknown = rows.map(() => ({ verdict: 'abnormal' as const, anomalies: [] }));
  assert.equal(
    await trainAnomalyHead(table, anomalyLabels(unknown), [0, 1, 2], { seed: 1, epochs: 1 }),
    null,
  );
  // Only images 0 and 1 are known: one epoch in batches of 16 is then a single step over 2 images.
  const mixed = anomalyLabels([rows[0], rows[1], ...unknown.slice(2)]);
  const trained = await trainAnomalyHead(table, mixed, [0, 1, 2, 3, 4, 5, 6, 7], { seed: 1, epochs: 1 });
  assert.equal(trained?.steps, 1);
});
