import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { trainAndCrossValidate } from './cross-validate.ts';
import { toyEmbeddings } from '../head/fixtures.ts';
import { gatherVariant, predictHead, scoreImages, trainHead } from '../head/train.ts';

describe('leave-one-bundle-out cross-validation', () => {
  const { table, labels } = toyEmbeddings(36, 5);
  // Bundles b1, b2, b10 (numeric order, not lexical); b10 holds only normal images.
  const bundles = Array.from({ length: 36 }, (_, i) => (i < 12 ? 'b2' : i < 28 ? 'b1' : 'b10'));
  for (let i = 28; i < 36; i++) labels[i] = 0;
  const training = { epochs: 4 };

  test('each bundle is tested once by a head trained on exactly the other bundles', async () => {
    const progress: number[] = [];
    const result = await trainAndCrossValidate({
      embeddings: table,
      labels,
      bundles,
      method: 2,
      seed: 9,
      training,
      onProgress: (p) => void progress.push(p),
    });
    assert.deepEqual(
      result.folds.map((f) => f.bundle),
      ['b1', 'b2', 'b10'],
    );
    const b2 = result.folds[1];
    assert.deepEqual(
      b2.images,
      Array.from({ length: 12 }, (_, i) => i),
    );
    // The same seed on the other bundles' images reproduces the fold's probabilities exactly.
    const rest = Array.from({ length: 24 }, (_, i) => 12 + i);
    const { params } = await trainHead(table, labels, rest, { seed: 9, ...training });
    const p = await predictHead(params, gatherVariant(table, b2.images));
    assert.deepEqual(
      b2.pAbnormal,
      b2.images.map((_, k) => p[2 * k + 1]),
    );

    const cv = result.crossValidation!;
    assert.deepEqual(
      cv.perBundle.map((b) => b.tp + b.fp + b.tn + b.fn),
      [16, 12, 8],
    );
    assert.equal(cv.perBundle[2].balancedAccuracy, null);
    assert.match(cv.perBundle[2].note!, /no abnormal images/);
    const pooled = cv.perBundle.reduce((s, b) => s + b.tp + b.fn, 0);
    assert.equal(cv.overall.tp + cv.overall.fn, pooled);
    assert.equal(result.method, 2);
    assert.ok(result.model, 'a final model trained on all images');
    // Progress rises to 1 over 3 folds + the final model.
    assert.ok(progress.every((v, i) => i === 0 || v >= progress[i - 1]));
    assert.equal(progress.at(-1), 1);
    assert.equal(progress.length, 4 * training.epochs + 1);

    const scores = await scoreImages(result.model!, table, [0, 5]);
    assert.equal(scores.length, 2);
  });

  test('folds trained in parallel worker threads give the same probabilities and final model as in-thread', async () => {
    const common = {
      embeddings: table,
      labels,
      bundles,
      method: 3,
      seed: 4,
      training: { ...training, threads: 1 },
    };
    const progress: number[] = [];
    const [serial, parallel] = [
      await trainAndCrossValidate(common),
      await trainAndCrossValidate({ ...common, workers: 2, onProgress: (p) => void progress.push(p) }),
    ];
    assert.deepEqual(
      parallel.folds.map((f) => f.pAbnormal),
      serial.folds.map((f) => f.pAbnormal),
    );
    assert.deepEqual(parallel.model![3].weight, serial.model![3].weight);
    assert.deepEqual(parallel.crossValidation, serial.crossValidation);
    assert.equal(progress.at(-1), 1);
  });

  test('a single bundle cannot be cross-validated', async () => {
    await assert.rejects(
      trainAndCrossValidate({
        embeddings: table,
        labels,
        bundles: bundles.map(() => 'only'),
        method: 1,
        seed: 1,
      }),
      /at least two bundles/,
    );
  });
});
