import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { gatherVariant, predictHead, trainHead } from './train.ts';
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

  test('the learning rate starts at 0.001 and drops ×0.1 every 10 epochs (paper 2.4, DOMAIN.md)', async () => {
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
