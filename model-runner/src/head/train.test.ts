import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  gatherVariant,
  learningRateAt,
  planEpoch,
  predictHead,
  trainHead,
  trainingRandom,
  TRAINING_DEFAULTS,
} from './train.ts';
import { referenceLossAndGradients } from './reference.ts';
import { createRandom } from './random.ts';
import { initHead, trainingFlopsPerSample } from './params.ts';
import { toyEmbeddings } from './fixtures.ts';

const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('head training on ONNX Runtime', () => {
  const { table, labels } = toyEmbeddings(64, 1);

  test('the same seed gives bit-identical weights; another seed gives different ones', async () => {
    const options = { seed: 42, epochs: 3 };
    const a = await trainHead(table, labels, all(48), options);
    const b = await trainHead(table, labels, all(48), options);
    const c = await trainHead(table, labels, all(48), { ...options, seed: 43 });
    a.params.forEach((layer, l) => {
      assert.deepEqual(layer.weight, b.params[l].weight);
      assert.deepEqual(layer.bias, b.params[l].bias);
    });
    assert.deepEqual(a.losses, b.losses);
    assert.notDeepEqual(a.params[0].weight, c.params[0].weight);
  });

  test('the learning rate starts at 0.001 and drops ×0.1 every 10 epochs (paper 2.4, docs/domain.md)', async () => {
    const rates: number[] = [];
    await trainHead(table, labels, all(16), {
      seed: 1,
      epochs: 21,
      onEpoch: (r) => void rates.push(r.learningRate),
    });
    assert.equal(rates.length, 21);
    assert.equal(rates[0], 0.001);
    assert.equal(rates[9], 0.001);
    assert.ok(Math.abs(rates[10] - 0.0001) < 1e-12);
    assert.ok(Math.abs(rates[20] - 0.00001) < 1e-12);
  });

  test('50 epochs of batches of 16 take ceil(n/16) steps per epoch, lower the loss and separate held-out images', async () => {
    const train = all(48);
    const held = Int32Array.from({ length: 16 }, (_, i) => 48 + i);
    const trained = await trainHead(table, labels, train, { seed: 7 });
    assert.equal(trained.steps, 50 * 3);
    assert.ok(
      trained.losses[49] < trained.losses[0] * 0.5,
      `loss ${trained.losses[0]} → ${trained.losses[49]}`,
    );
    const p = await predictHead(trained.params, gatherVariant(table, held));
    held.forEach((image, k) =>
      assert.equal(p[2 * k + 1] > 0.5 ? 1 : 0, labels[image], `image ${image}: p = ${p[2 * k + 1]}`),
    );
  });

  test('fc0 starts from the backbone fc, transposed from torchvision layout [1000, 512]', () => {
    const weight = Float32Array.from({ length: 1000 * 512 }, (_, k) => k);
    const bias = Float32Array.from({ length: 1000 }, (_, k) => -k);
    const head = initHead({ seed: 1, backboneFc: { weight, bias } });
    // torchvision weight[o][i] = o·512 + i lands at our [i][o].
    assert.equal(head[0].weight[3 * 1000 + 7], 7 * 512 + 3);
    assert.equal(head[0].bias[999], -999);
    assert.throws(
      () => initHead({ seed: 1, backboneFc: { weight: weight.subarray(1), bias } }),
      /backbone fc has/,
    );
  });

  test('He initialisation: zero biases and weight spread sqrt(2 / fan_in)', () => {
    const head = initHead({ seed: 3 });
    const w = head[1].weight; // 1000 → 512
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    assert.ok(Math.abs(variance - 2 / 1000) < 0.05 * (2 / 1000), `variance ${variance}`);
    assert.ok(head.every((layer) => layer.bias.every((b) => b === 0)));
  });
});

test("one training sample costs 5.9 MFLOP in the paper's head: 2 passes over fc0, 3 over the others", () => {
  const macs = 512 * 1000 + 1000 * 512 + 512 * 256 + 256 * 2;
  assert.equal(trainingFlopsPerSample(), 2 * (3 * macs - 512 * 1000));
  assert.equal(trainingFlopsPerSample(), 5_909_504);
});

for (const defaults of [true, false])
  test(`trainHead follows a float64 PyTorch-style SGD-momentum reference across learning-rate decays (${defaults ? 'the defaults: standardised coordinates, balanced class weights' : 'raw embeddings, no class weights'})`, async () => {
    const standardize = defaults;
    // A tiny head and table so the plain-TS reference can replay every step: 10 images × 4 variants × 6 features.
    const dims = [6, 5, 4, 3, 2];
    const random = createRandom(77);
    const images = 10;
    const table = {
      vectors: Float32Array.from({ length: images * 4 * 6 }, () => Math.abs(random.normal())),
      images,
      variants: 4,
      dim: 6,
    };
    const labels = Uint8Array.from({ length: images }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const train = [0, 1, 2, 3, 4, 5, 6, 8, 9];
    const options = {
      seed: 5,
      dims,
      epochs: 25,
      batchSize: 4,
      learningRate: 0.1,
      decayEvery: 10,
      ...(defaults ? {} : { standardize: false, classWeights: null }),
    };
    const trained = await trainHead(table, labels, train, options);

    // Standardisation in float64, written out here rather than taken from standardize.ts: per-feature mean and
    // standard deviation over the training images × 4 variants; SGD on z = (x − μ)/s from fc0 reparametrised as
    // W' = diag(s)·W, b' = b + μ·W (the same initial function), folded back at the end.
    const mu = new Float64Array(6);
    const sd = new Float64Array(6).fill(1);
    if (standardize) {
      const rows = train.flatMap((i) =>
        [0, 1, 2, 3].map((v) => table.vectors.subarray((i * 4 + v) * 6, (i * 4 + v + 1) * 6)),
      );
      for (let d = 0; d < 6; d++) {
        mu[d] = rows.reduce((a, r) => a + r[d], 0) / rows.length;
        sd[d] = Math.sqrt(rows.reduce((a, r) => a + (r[d] - mu[d]) ** 2, 0) / rows.length);
      }
    }
    // Balanced class weights n / (2·n_class) over the training images (9 images, 4 abnormal).
    const abnormal = train.filter((i) => labels[i] === 1).length;
    const classWeight = defaults
      ? [train.length / (2 * (train.length - abnormal)), train.length / (2 * abnormal)]
      : [1, 1];
    const o = { ...TRAINING_DEFAULTS, ...options };
    const params = initHead({ seed: o.seed, dims }).map((l) => ({
      ...l,
      weight: Float64Array.from(l.weight),
      bias: Float64Array.from(l.bias),
    }));
    for (let i = 0; i < 6; i++)
      for (let u = 0; u < 5; u++) {
        params[0].bias[u] += mu[i] * params[0].weight[i * 5 + u];
        params[0].weight[i * 5 + u] *= sd[i];
      }
    const velocity = params.map((l) => ({
      weight: new Float64Array(l.weight.length),
      bias: new Float64Array(l.bias.length),
    }));
    const stream = trainingRandom(o.seed);
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const lr = learningRateAt(epoch, o);
      const { order, variants } = planEpoch(stream, train.length, 4);
      for (let start = 0; start < train.length; start += o.batchSize) {
        const rows = Array.from(order.subarray(start, start + o.batchSize));
        const x = rows.flatMap((r, k) => {
          const at = (train[r] * 4 + variants[start + k]) * 6;
          return Array.from(table.vectors.subarray(at, at + 6), (v, d) => (v - mu[d]) / sd[d]);
        });
        const { gradients } = referenceLossAndGradients(
          params,
          x,
          rows.map((r) => labels[train[r]]),
          rows.map((r) => classWeight[labels[train[r]]]),
        );
        params.forEach((layer, l) => {
          for (const key of ['weight', 'bias'] as const)
            for (let k = 0; k < layer[key].length; k++) {
              velocity[l][key][k] = o.momentum * velocity[l][key][k] + gradients[l][key][k];
              layer[key][k] -= lr * velocity[l][key][k];
            }
        });
      }
    }
    for (let i = 0; i < 6; i++)
      for (let u = 0; u < 5; u++) {
        params[0].weight[i * 5 + u] /= sd[i];
        params[0].bias[u] -= mu[i] * params[0].weight[i * 5 + u];
      }
    params.forEach((layer, l) => {
      for (const key of ['weight', 'bias'] as const)
        layer[key].forEach((v, k) =>
          assert.ok(
            Math.abs(trained.params[l][key][k] - v) < 1e-4 * Math.max(1, Math.abs(v)),
            `fc${l} ${key}[${k}]: ${trained.params[l][key][k]} vs ${v}`,
          ),
        );
    });
    // The run really moved the weights (otherwise agreement would prove nothing).
    const start = initHead({ seed: o.seed, dims });
    assert.ok(trained.params[3].weight.some((w, k) => Math.abs(w - start[3].weight[k]) > 1e-2));
    // Standardising changes the trajectory (otherwise this variant would test nothing new).
    if (defaults) {
      for (const other of [{ standardize: false }, { classWeights: null }] as const) {
        const changed = await trainHead(table, labels, train, { ...options, ...other });
        assert.ok(changed.params[0].weight.some((w, k) => Math.abs(w - trained.params[0].weight[k]) > 1e-2));
      }
    }
  });
