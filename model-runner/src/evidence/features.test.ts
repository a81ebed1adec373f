import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initHead } from '../head/params.ts';
import { trainHead } from '../head/train.ts';
import { withBundleNormalised } from './bundle-normalise.ts';
import { cellMax, selectBlocks } from './extract.ts';
import { composeFeatures, parseFeatureSet } from './features.ts';

describe('feature sets', () => {
  test('PLATINA_FEATURES defaults to fused and refuses unknown names', () => {
    assert.equal(parseFeatureSet(undefined), 'fused');
    assert.equal(parseFeatureSet(' Paper '), 'paper');
    assert.throws(
      () => parseFeatureSet('imagenet'),
      /PLATINA_FEATURES=imagenet is not one of paper, evidence, fused/,
    );
  });

  test('fused rows are each flip variant’s embedding followed by the image’s one evidence vector', () => {
    // 2 images × 2 variants, embeddings of 3 values, evidence of 2.
    const embeddings = { vectors: Float32Array.from({ length: 12 }, (_, i) => i), dim: 3 };
    const evidence = { vectors: Float32Array.of(100, 101, 200, 201), dim: 2 };
    const fused = composeFeatures('fused', 2, 2, embeddings, evidence);
    assert.equal(fused.dim, 5);
    assert.deepEqual(
      [...fused.vectors],
      [0, 1, 2, 100, 101, 3, 4, 5, 100, 101, 6, 7, 8, 200, 201, 9, 10, 11, 200, 201],
    );
    assert.deepEqual([...composeFeatures('paper', 2, 2, embeddings, null).vectors], [...embeddings.vectors]);
    const only = composeFeatures('evidence', 2, 2, null, evidence);
    assert.deepEqual([...only.vectors], [100, 101, 100, 101, 200, 201, 200, 201]);
    assert.throws(() => composeFeatures('fused', 2, 2, embeddings, null), /need evidence/);
  });

  test('a wider head input keeps the backbone fc on the embedding’s rows and He-initialises the rest', () => {
    const fc = { weight: Float32Array.from({ length: 3 * 2 }, (_, i) => i + 1), bias: Float32Array.of(7, 8) };
    const [fc0] = initHead({ seed: 1, backboneFc: fc, dims: [5, 2, 2] });
    // torchvision [outputs, inputs] → ours [inputs, outputs] for the first 3 inputs.
    assert.deepEqual([...fc0.weight.subarray(0, 6)], [1, 4, 2, 5, 3, 6]);
    assert.ok([...fc0.weight.subarray(6)].every((w) => w !== 0 && Math.abs(w) < 3));
    assert.deepEqual([...fc0.bias], [7, 8]);
    assert.throws(() => initHead({ seed: 1, backboneFc: fc, dims: [2, 2, 2] }), /backbone fc has 6 weights/);
  });

  test('the head trains on whatever width the features have', async () => {
    const images = 24;
    const dim = 9;
    const vectors = new Float32Array(images * 4 * dim);
    const labels = Uint8Array.from({ length: images }, (_, i) => (i % 3 === 0 ? 1 : 0));
    for (let i = 0; i < images; i++)
      for (let v = 0; v < 4; v++)
        for (let f = 0; f < dim; f++)
          vectors[(i * 4 + v) * dim + f] = Math.sin(i * 7 + f) + (f === 8 ? 3 * labels[i] : 0);
    const idx = Array.from({ length: images }, (_, i) => i);
    const head = await trainHead({ vectors, images, variants: 4, dim }, labels, idx, { seed: 0, epochs: 2 });
    assert.equal(head.params[0].inputs, 9);
  });
});

describe('per-bundle normalisation (label-free)', () => {
  test('centres each feature on its bundle’s median and scales by the bundle’s robust spread', () => {
    // Feature 0: bundle a around 10, bundle b around 100 (the shift a new bundle brings), 30 images each; the last
    // image of each bundle stands out by the same amount.
    const a = Array.from({ length: 30 }, (_, i) => 10 + (i % 3) - 1);
    const b = Array.from({ length: 30 }, (_, i) => 100 + (i % 3) - 1);
    a[29] = 20;
    b[29] = 110;
    const values = Float32Array.from([...a, ...b]);
    const bundles = [...a.map(() => 'a'), ...b.map(() => 'b')];
    const n = withBundleNormalised(values, 1, bundles, ['level']);
    assert.deepEqual(n.names, ['level', 'level@bundle']);
    const normalised = Array.from({ length: 60 }, (_, i) => n.vectors[i * 2 + 1]);
    assert.deepEqual(
      Array.from({ length: 60 }, (_, i) => n.vectors[i * 2]),
      [...values],
      'raw values kept',
    );
    // The bundle levels no longer stand out; the outliers of both bundles do, by nearly the same amount.
    assert.ok(
      Math.abs(normalised[0]) < 2 && Math.abs(normalised[30]) < 2,
      `${normalised[0]}, ${normalised[30]}`,
    );
    assert.ok(normalised[29] > 4 && normalised[59] > 4, `${normalised[29]}, ${normalised[59]}`);
    assert.ok(Math.abs(normalised[29] - normalised[59]) < 0.5, `${normalised[29]} vs ${normalised[59]}`);
  });

  test('a bundle whose feature never varies falls back to the spread over all images', () => {
    const values = Float32Array.of(0, 0, 0, 0, 1, 3, 0, 2);
    const n = withBundleNormalised(values, 1, ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'], ['count']);
    for (let i = 0; i < 8; i++) assert.ok(Number.isFinite(n.vectors[i * 2 + 1]));
  });

  test('a one-image bundle is not normalised to zero: it borrows the global statistics', () => {
    const values = Float32Array.from([...Array.from({ length: 40 }, (_, i) => 10 + (i % 5)), 30]);
    const bundles = [...Array.from({ length: 40 }, () => 'big'), 'new'];
    const n = withBundleNormalised(values, 1, bundles, ['x']);
    assert.ok(n.vectors[40 * 2 + 1] > 3, `the lone image's normalised value ${n.vectors[40 * 2 + 1]}`);
  });
});

describe('heatmap cells and blocks', () => {
  test('the heatmap keeps each cell’s largest |z|, cells square, 64 across the long side', () => {
    const w = 128;
    const h = 256;
    const map = new Float32Array(w * h);
    map[200 * w + 40] = -9; // one strong dark pixel
    map[10 * w + 100] = 4;
    const hm = cellMax(map, w, h);
    assert.deepEqual([hm.width, hm.height], [32, 64]);
    assert.equal(hm.data[50 * 32 + 10], 9);
    assert.equal(hm.data[2 * 32 + 25], 4);
    assert.equal(
      hm.data.reduce((a, v) => a + v, 0),
      13,
    );
  });

  test('blocks are selected by their name prefix', () => {
    assert.deepEqual(selectBlocks(['residual.a', 'scattering.b', 'residual.c'], ['residual']), [0, 2]);
    assert.deepEqual(selectBlocks(['residual.a', 'scattering.b'], ['scattering']), [1]);
  });
});

describe('evidence of every image the API accepts', () => {
  test('8- and 16-bit images from 20×30 px to full size give vectors of the same length, all finite', async () => {
    const { extractEvidence } = await import('./extract.ts');
    const { cpuScattering } = await import('./evidence-tasks.ts');
    const lengths = new Set<number>();
    for (const [w, h, bitDepth] of [
      [20, 30, 8],
      [32, 64, 16],
      [300, 200, 8],
      [1150, 2070, 16],
    ] as const) {
      const data = bitDepth === 8 ? new Uint8Array(w * h) : new Uint16Array(w * h);
      for (let i = 0; i < data.length; i++) data[i] = (bitDepth === 8 ? 100 : 2000) + ((i * 2654435761) % 17);
      const ev = await extractEvidence({ width: w, height: h, bitDepth, data } as never, cpuScattering);
      lengths.add(ev.values.length);
      assert.ok(ev.values.every(Number.isFinite), `${w}×${h}`);
      assert.ok(ev.heatmap.width >= 1 && ev.heatmap.height >= 1);
    }
    assert.equal(lengths.size, 1);
  });
});
