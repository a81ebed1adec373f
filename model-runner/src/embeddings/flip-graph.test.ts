import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { tinyBackbone } from '../backbone/fixtures.ts';
import { BackboneError, validateBackbone } from '../backbone/load.ts';
import { buildResNet34Model, initResNet34Weights } from '../backbone/resnet34.ts';
import { decodeModel, encodeModel } from '../onnx/graph.ts';
import { FLIPS } from './cache.ts';
import { hostFlip, plainFeatures } from './flip-fixtures.ts';
import { splitFlipFeatures, withFlipVariants } from './flip-graph.ts';

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const image = (seed: number, h: number, w: number) =>
  Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.37 + seed) + ((i * seed) % 7) / 7);

describe('the flips inside the backbone graph', () => {
  test("each image's four vectors equal the backbone on the image flipped on the host (h = width, v = height)", async () => {
    const [H, W] = [40, 24]; // not square, so a swapped axis cannot pass
    const bytes = tinyBackbone().bytes;
    const images = [image(1, H, W), image(2, H, W), image(3, H, W)];
    const split = splitFlipFeatures(await plainFeatures(withFlipVariants(bytes, 'input'), images, H, W), 3);
    const reference = await plainFeatures(
      bytes,
      images.flatMap((x) => FLIPS.map((f) => hostFlip(x, 3, H, W, f))),
      H,
      W,
    );
    for (let k = 0; k < 3; k++)
      FLIPS.forEach((flip, f) => {
        const want = reference.subarray((k * 4 + f) * 512, (k * 4 + f + 1) * 512);
        assert.ok(maxDiff(split[k][f], want) < 1e-5, `image ${k}, flip ${flip}`);
      });
    assert.ok(maxDiff(split[0][1], split[0][2]) > 1e-3, 'h and v give different features');
  });

  test('the offline ResNet-34 keeps its outputs (features and logits) with a 4× batch', async () => {
    const bytes = withFlipVariants(buildResNet34Model(initResNet34Weights(0)), 'input');
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ input: new ort.Tensor('float32', image(4, 64, 32), [1, 3, 64, 32]) });
    await session.release();
    assert.deepEqual(out.features.dims, [4, 512]);
    assert.deepEqual(out.logits.dims, [4, 1000]);
  });

  test('a backbone older than opset 10 is refused by name, before any embedding', () => {
    const model = decodeModel(tinyBackbone().bytes);
    model.opsetImport = [{ domain: '', version: 9 }];
    const old = encodeModel(model);
    assert.throws(
      () => validateBackbone(old, 'old.onnx'),
      (e: unknown) =>
        e instanceof BackboneError && e.problems.some((p) => /opset 9 is older than 10/.test(p)),
    );
    assert.throws(() => withFlipVariants(old, 'input'), /opset ≥ 10/);
  });
});
