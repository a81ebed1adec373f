import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { referenceLossAndGradients, referenceProbabilities } from './reference.ts';
import type { ReferenceLayer } from './reference.ts';
import { createRandom } from './random.ts';
import { assertGradientsMatchFiniteDifferences } from './gradient-check.ts';

/** A small float64 head so that finite differences over every parameter stay fast and exact enough. */
function smallHead(seed: number): {
  layers: { inputs: number; outputs: number; weight: Float64Array; bias: Float64Array }[];
} {
  const random = createRandom(seed);
  const dims = [5, 7, 6, 4, 2];
  const layers = dims.slice(1).map((outputs, l) => ({
    inputs: dims[l],
    outputs,
    weight: Float64Array.from({ length: dims[l] * outputs }, () => random.normal() * 0.8),
    bias: Float64Array.from({ length: outputs }, () => random.normal() * 0.3),
  }));
  return { layers };
}

describe('float64 reference head', () => {
  test('hand-derived gradients agree with central finite differences for every parameter', () => {
    const { layers } = smallHead(7);
    const random = createRandom(11);
    const batch = 6;
    const x = Float64Array.from({ length: batch * 5 }, () => random.normal());
    const labels = [0, 1, 1, 0, 1, 0];
    const weights = [1, 3.5, 3.5, 1, 3.5, 1]; // class weights on: the weighted mean must be differentiated too
    const { gradients } = referenceLossAndGradients(layers, x, labels, weights);
    const checked = assertGradientsMatchFiniteDifferences(
      layers,
      gradients,
      () => referenceLossAndGradients(layers, x, labels, weights).loss,
    );
    assert.equal(checked, 5 * 7 + 7 + 7 * 6 + 6 + 6 * 4 + 4 + 4 * 2 + 2);
  });

  test('the loss is the weighted mean of −log p(label), and probabilities sum to one', () => {
    const { layers } = smallHead(3);
    const x = Float64Array.from({ length: 2 * 5 }, (_, i) => Math.sin(i));
    const p = referenceProbabilities(layers as ReferenceLayer[], x, 2);
    assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-12 && Math.abs(p[2] + p[3] - 1) < 1e-12);
    const { loss } = referenceLossAndGradients(layers, x, [1, 0], [2, 1]);
    const expected = (2 * -Math.log(p[1]) + 1 * -Math.log(p[2])) / 3;
    assert.ok(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
  });
});
