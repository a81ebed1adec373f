import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import {
  BACKBONE_META,
  RESNET34_PARAMETER_COUNT,
  UNTRAINED,
  buildResNet34Model,
  buildUntrainedResNet34,
  calibrationBatch,
  countParameters,
  initResNet34Weights,
  resnet34Macs,
  type UntrainedBackbone,
} from './resnet34.ts';
import { decodeModel, modelMetadata, tensorDims } from '../onnx/graph.ts';
import { extractFcWeights, validateBackbone } from './load.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);

let backbone: UntrainedBackbone;
let session: ort.InferenceSession;

before(async () => {
  backbone = await buildUntrainedResNet34(0);
  session = await ort.InferenceSession.create(backbone.bytes);
});

describe('offline ResNet-34 backbone', () => {
  test("has torchvision's parameter count and state_dict names and shapes", () => {
    assert.equal(countParameters(backbone.weights), RESNET34_PARAMETER_COUNT);
    const graph = decodeModel(backbone.bytes).graph!;
    const dims = new Map(graph.initializer!.map((t) => [t.name!, tensorDims(t)]));
    assert.deepEqual(dims.get('conv1.weight'), [64, 3, 7, 7]);
    assert.deepEqual(dims.get('layer1.2.conv2.weight'), [64, 64, 3, 3]);
    assert.deepEqual(dims.get('layer3.5.bn2.running_var'), [256]);
    assert.deepEqual(dims.get('layer4.0.downsample.0.weight'), [512, 256, 1, 1]);
    assert.deepEqual(dims.get('fc.weight'), [1000, 512]);
    assert.equal(dims.has('layer1.0.downsample.0.weight'), false, 'layer1 keeps the identity shortcut');
    const ops = graph.node!.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'Conv').length, 36);
    assert.equal(ops.filter((o) => o === 'BatchNormalization').length, 36);
    assert.equal(ops.filter((o) => o === 'MaxPool').length, 1);
  });

  test('initialises like torchvision: conv N(0, 2/fan_out), fc U(±1/√512), BN weight 1 and bias 0', () => {
    const w = backbone.weights;
    const conv1 = w.get('conv1.weight')!.data;
    const expected = Math.sqrt(2 / (64 * 7 * 7));
    assert.ok(Math.abs(rms(conv1) / expected - 1) < 0.03, `conv1 std ${rms(conv1)} vs ${expected}`);
    const fc = w.get('fc.weight')!.data;
    assert.ok(fc.every((v) => Math.abs(v) <= 1 / Math.sqrt(512)));
    assert.ok(w.get('layer2.1.bn1.weight')!.data.every((v) => v === 1));
    assert.ok(w.get('layer2.1.bn1.bias')!.data.every((v) => v === 0));
  });

  test('is marked "untrained" in its metadata, which the loader reports', () => {
    const meta = modelMetadata(decodeModel(backbone.bytes));
    assert.equal(meta[BACKBONE_META.kind], UNTRAINED);
    assert.equal(meta[BACKBONE_META.seed], '0');
    const loaded = validateBackbone(backbone.bytes, 'built');
    assert.equal(loaded.untrained, true);
    assert.equal(loaded.description, 'untrained ResNet-34 (seed 0)');
    assert.equal(loaded.hash, sha(backbone.bytes));
    assert.deepEqual(extractFcWeights(backbone.bytes)?.weight, backbone.weights.get('fc.weight')!.data);
  });

  test('the same seed gives the same bytes; another seed gives other weights', async () => {
    const again = await buildUntrainedResNet34(0);
    assert.equal(sha(again.bytes), sha(backbone.bytes));
    const other = initResNet34Weights(1).get('conv1.weight')!.data;
    assert.notDeepEqual(other.subarray(0, 16), backbone.weights.get('conv1.weight')!.data.subarray(0, 16));
  });

  test('outputs features [N, 512] and logits [N, 1000] at any batch and size', async () => {
    for (const [n, h, w] of [
      [2, 64, 64],
      [1, 96, 64],
    ]) {
      const x = calibrationBatch(7, n, h, w);
      const out = await session.run({ input: new ort.Tensor('float32', x, [n, 3, h, w]) });
      assert.deepEqual(out.features.dims, [n, 512]);
      assert.deepEqual(out.logits.dims, [n, 1000]);
    }
  });

  test('calibrated BN keeps features at unit scale, where identity BN lets them grow ~20x', async () => {
    const [n, h, w] = [2, 128, 96];
    const input = new ort.Tensor('float32', calibrationBatch(99, n, h, w), [n, 3, h, w]);
    const calibrated = (await session.run({ input })).features.data as Float32Array;
    assert.ok(rms(calibrated) > 0.3 && rms(calibrated) < 3, `calibrated rms ${rms(calibrated)}`);
    // Different images give different features (not a constant vector).
    const a = calibrated.subarray(0, 512);
    const b = calibrated.subarray(512);
    const diff = rms(a.map((v, i) => v - b[i]));
    assert.ok(diff > 0.05, `feature difference rms ${diff}`);

    const identityBn = initResNet34Weights(0); // running mean 0, var 1
    const plain = await ort.InferenceSession.create(buildResNet34Model(identityBn));
    const grown = (await plain.run({ input })).features.data as Float32Array;
    await plain.release();
    assert.ok(rms(grown) > 10, `identity-BN rms ${rms(grown)}`);
  });

  test('features of distinct images are finite and every one of the 512 varies (none dead, none constant)', async () => {
    // What the head needs from a frozen backbone: each feature a usable, finite signal across images. Measured on
    // 8 smooth grey images at the CPU size 128×64: rms 1.0, the least-varying feature still has sd 0.10 (11 % of
    // its mean). Real method-1/2 inputs are far darker and flatter, so there the spread is ~4 % of the mean; the
    // head standardises its inputs for that reason (head/standardize.ts).
    const [n, h, w] = [8, 128, 64];
    const input = new ort.Tensor('float32', calibrationBatch(11, n, h, w), [n, 3, h, w]);
    const f = (await session.run({ input })).features.data as Float32Array;
    assert.ok(f.every(Number.isFinite), 'finite');
    assert.ok(rms(f) > 0.3 && rms(f) < 3, `rms ${rms(f)}`);
    for (let d = 0; d < 512; d++) {
      const v = Array.from({ length: n }, (_, i) => f[i * 512 + d]);
      const mean = v.reduce((a, b) => a + b) / n;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
      assert.ok(
        v.some((x) => x !== 0),
        `feature ${d} is 0 for every image (a dead ReLU channel)`,
      );
      assert.ok(sd > 0.02 * Math.max(1, Math.abs(mean)), `feature ${d}: sd ${sd} around ${mean}`);
    }
  });

  test('folding BN into the convs computes the same features', async () => {
    const [n, h, w] = [1, 64, 64];
    const input = new ort.Tensor('float32', calibrationBatch(3, n, h, w), [n, 3, h, w]);
    const reference = (await session.run({ input })).features.data as Float32Array;
    const foldedSession = await ort.InferenceSession.create(
      buildResNet34Model(backbone.weights, { foldBatchNorm: true }),
    );
    const folded = (await foldedSession.run({ input })).features.data as Float32Array;
    await foldedSession.release();
    const diff = folded.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), 0);
    assert.ok(diff < 1e-3, `max difference ${diff}`);
  });

  test('counts 3.66 GMAC at 224x224 (torchvision: 3.6 G) and about 147 GMAC at the paper 2000x1000', () => {
    assert.equal(Math.round(resnet34Macs(224, 224) / 1e7), 366);
    assert.equal(Math.round(resnet34Macs(2000, 1000) / 1e9), 147);
  });
});
