import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { trainAndCrossValidate } from './cross-validate.ts';
import { toyEmbeddings } from '../head/fixtures.ts';
import { gatherVariant, predictHead, scoreImages, trainHead } from '../head/train.ts';
import { anomalyLabels, scoreAnomalies, trainAnomalyHead } from '../head/multilabel.ts';
import { averagePrecision } from './average-precision.ts';

describe('leave-one-bundle-out cross-validation', () => {
  const { table, labels } = toyEmbeddings(36, 5);
  // Bundles b1, b2, b10 (numeric order, not lexical); b10 holds only normal images.
  const bundles = Array.from({ length: 36 }, (_, i) => (i < 12 ? 'b2' : i < 28 ? 'b1' : 'b10'));
  for (let i = 28; i < 36; i++) labels[i] = 0;
  const training = { epochs: 4 };
  // Abnormal images show scratches, every other one also lines; image 4 is abnormal without a named type.
  const types = anomalyLabels(
    Array.from(labels, (y, i) => ({
      verdict: y ? ('abnormal' as const) : ('normal' as const),
      anomalies: !y || i === 4 ? [] : i % 8 === 0 ? ['scratches', 'lines'] : ['scratches'],
    })),
  );

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
      anomalies: types,
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
    assert.deepEqual(
      parallel.folds.map((f) => f.pAnomalies),
      serial.folds.map((f) => f.pAnomalies),
    );
    assert.deepEqual(parallel.anomalyModel![1].weight, serial.anomalyModel![1].weight);
    assert.deepEqual(parallel.crossValidation, serial.crossValidation);
    assert.equal(progress.at(-1), 1);
  });

  test('with anomaly labels every fold also trains the type head; AP per type is pooled over the held-out images', async () => {
    const result = await trainAndCrossValidate({
      embeddings: table,
      labels,
      bundles,
      method: 2,
      seed: 9,
      training,
      anomalies: types,
    });
    // The same seed on the other bundles' known images reproduces the fold's type probabilities exactly.
    const b2 = result.folds[1];
    const rest = Array.from({ length: 24 }, (_, i) => 12 + i);
    const head = await trainAnomalyHead(table, types, rest, { seed: 9, ...training });
    assert.deepEqual(b2.pAnomalies, await scoreAnomalies(head!.params, table, b2.images));

    const perType = result.crossValidation!.anomalies!.perType;
    assert.deepEqual(
      perType.map((t) => t.code),
      [
        'scratches',
        'lines',
        'edge_cuts',
        'edge_tensions',
        'smudges',
        'edge_ink_flow',
        'bubbles',
        'missing_ink',
        'agglomerate',
        'ink_fluctuations',
        'ink_entry_exit',
      ],
    );
    // 7 abnormal images (indices 0, 4, …, 24) minus image 4, whose types are unknown.
    assert.deepEqual(
      perType.slice(0, 3).map((t) => [t.positives, t.images]),
      [
        [6, 35],
        [4, 35],
        [0, 35],
      ],
    );
    // Recomputed here from the folds' own scores, pooled by hand.
    const pooled = result.folds.flatMap((f) =>
      f.images.flatMap((image, j) =>
        image === 4 ? [] : [[types.targets[image * 11], f.pAnomalies![j * 11]]],
      ),
    );
    assert.equal(pooled.length, 35);
    assert.equal(
      perType[0].averagePrecision,
      averagePrecision(
        pooled.map((x) => x[0]),
        pooled.map((x) => x[1]),
      ),
    );
    // The prior-only reference: every held-out image scored with its fold's training share of scratches.
    const shares = result.folds.flatMap((f) => {
      const train = Array.from({ length: 36 }, (_, i) => i).filter((i) => !f.images.includes(i) && i !== 4);
      const share = (train.filter((i) => types.targets[i * 11]).length + 0.5) / (train.length + 1);
      return f.images.filter((image) => image !== 4).map(() => share);
    });
    assert.equal(
      perType[0].priorOnlyAveragePrecision,
      averagePrecision(
        pooled.map((x) => x[0]),
        shares,
      ),
    );
    assert.equal(perType[1].averagePrecision, null);
    assert.match(perType[1].note!, /^4 positive images \(fewer than 5\)/);
    assert.equal(result.anomalyModel?.at(-1)?.outputs, 11);
    // Without anomaly labels nothing of it appears.
    const plain = await trainAndCrossValidate({
      embeddings: table,
      labels,
      bundles,
      method: 2,
      seed: 9,
      training,
    });
    assert.equal(plain.crossValidation!.anomalies, undefined);
    assert.equal(plain.anomalyModel, null);
    assert.equal(plain.folds[0].pAnomalies, null);
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
