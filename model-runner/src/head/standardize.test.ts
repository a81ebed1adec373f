import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { confusion, score } from '../cv/metrics.ts';
import { initHead } from './params.ts';
import { createRandom } from './random.ts';
import { featureScaling, standardizeRows, toRaw, toStandardized } from './standardize.ts';
import { FLIP_VARIANTS, gatherVariant, predictHead, trainHead } from './train.ts';
import type { EmbeddingTable } from './train.ts';

/** fc0 applied to rows of `x` in float64: [rows, outputs]. */
function dense(
  layer: { inputs: number; outputs: number; weight: Float32Array; bias: Float32Array },
  x: Float32Array,
) {
  const rows = x.length / layer.inputs;
  const out = new Float64Array(rows * layer.outputs);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < layer.outputs; o++) {
      let s = layer.bias[o];
      for (let i = 0; i < layer.inputs; i++)
        s += x[r * layer.inputs + i] * layer.weight[i * layer.outputs + o];
      out[r * layer.outputs + o] = s;
    }
  return out;
}

/**
 * Embeddings shaped like the offline untrained backbone's (measured at 128×64, methods 1/2): every feature sits at
 * a mean of 1–3 that all images share and varies across images by ~3 % of it; abnormal images (1 in 5, as in the
 * paper's data) differ by +2 sd of that variation on 64 of the 512 features. Linearly separable, but only along
 * directions that are tiny next to the shared mean vector.
 */
function lowContrastEmbeddings(images: number, seed: number): { table: EmbeddingTable; labels: Uint8Array } {
  const random = createRandom(seed);
  const dim = 512;
  const level = Float32Array.from({ length: dim }, () => 1 + 2 * random.next());
  const labels = Uint8Array.from({ length: images }, (_, i) => (i % 5 === 0 ? 1 : 0));
  const vectors = new Float32Array(images * FLIP_VARIANTS * dim);
  for (let i = 0; i < images; i++) {
    const base = Float32Array.from({ length: dim }, (_, d) => {
      const sd = 0.03 * level[d];
      return level[d] + sd * random.normal() + (labels[i] && d < 64 ? 2 * sd : 0);
    });
    for (let v = 0; v < FLIP_VARIANTS; v++)
      for (let d = 0; d < dim; d++)
        vectors[(i * FLIP_VARIANTS + v) * dim + d] = base[d] + 0.005 * level[d] * random.normal();
  }
  return { table: { vectors, images, variants: FLIP_VARIANTS, dim }, labels };
}

describe('feature standardisation of the head (standardize.ts)', () => {
  test('scales over the training images and every variant; a constant feature keeps scale 1', () => {
    // 3 images × 2 variants × 3 features; image 2 is not in the training set.
    const vectors = Float32Array.from([1, 5, 0, 3, 5, 2, 5, 5, 4, 7, 5, 6, 100, 5, -100, 100, 5, -100]);
    const s = featureScaling(vectors, 3, 2, [0, 1]);
    assert.deepEqual(Array.from(s.mean), [4, 5, 3]);
    assert.ok(Math.abs(s.scale[0] - Math.sqrt(5)) < 1e-12);
    assert.equal(s.scale[1], 1, 'a feature without spread is not divided by float noise');
    assert.ok(Math.abs(s.scale[2] - Math.sqrt(5)) < 1e-12);
    const rows = vectors.slice(0, 6);
    standardizeRows(rows, s);
    assert.deepEqual(
      Array.from(rows, (v) => Math.round(v * 1e6) / 1e6),
      [-1.341641, 0, -1.341641, -0.447214, 0, -0.447214],
    );
  });

  test('reparametrising fc0 keeps its function, and folding back inverts it', () => {
    const { table } = lowContrastEmbeddings(20, 3);
    const s = featureScaling(table.vectors, 512, FLIP_VARIANTS, [...Array(20).keys()]);
    const fc0 = initHead({ seed: 2 })[0];
    const raw = gatherVariant(table, [0, 1, 2, 5]);
    const z = raw.slice();
    standardizeRows(z, s);
    const before = dense(fc0, raw);
    const after = dense(toStandardized(fc0, s), z);
    const back = dense(toRaw(toStandardized(fc0, s), s), raw);
    const scale = Math.max(...before.map(Math.abs));
    for (let k = 0; k < before.length; k++) {
      assert.ok(Math.abs(after[k] - before[k]) < 1e-5 * scale, `standardised ${after[k]} vs ${before[k]}`);
      assert.ok(Math.abs(back[k] - before[k]) < 1e-5 * scale, `folded back ${back[k]} vs ${before[k]}`);
    }
  });

  test("on low-contrast imbalanced embeddings the paper's head does not collapse to one class any more", async () => {
    const { table, labels } = lowContrastEmbeddings(240, 1);
    const train = [...Array(180).keys()];
    const held = Array.from({ length: 60 }, (_, k) => 180 + k);
    const evaluate = async (options: { standardize?: boolean; classWeights?: 'balanced' | null }) => {
      const { params } = await trainHead(table, labels, train, { seed: 4, ...options });
      const p = await predictHead(params, gatherVariant(table, held));
      const predicted = held.map((_, k) => (p[2 * k + 1] > 0.5 ? 1 : 0));
      return {
        predicted,
        ba: score(
          confusion(
            Array.from(held, (i) => labels[i]),
            predicted,
          ),
        ).balancedAccuracy,
      };
    };
    // The data reproduce the failure: on raw coordinates, without class weights, every image is called normal.
    const before = await evaluate({ standardize: false, classWeights: null });
    assert.deepEqual(new Set(before.predicted), new Set([0]), 'raw coordinates: one class everywhere');
    const fixed = await evaluate({});
    assert.ok(fixed.ba !== null && fixed.ba >= 0.9, `balanced accuracy with the defaults ${fixed.ba}`);
  });
});
