import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Verdict } from '../../lib/consensus/rule.ts';
import { labelsToReach, replay } from './replay.ts';
import type { CurvePoint, Ordering, ReplayOptions, VoteSource } from './replay.ts';
import { randomOrdering, randomRanks, uncertaintyOrdering } from './orders.ts';
import { reviewCatches } from './review.ts';

// 30 images in 3 bundles; the last 10 are held out. Every third image is abnormal.
const N = 30;
const truth = Uint8Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 1 : 0));
const bundles = Array.from({ length: N }, (_, i) => ['a', 'b', 'c'][i % 3]);
const pool = Array.from({ length: 20 }, (_, i) => i);
const heldOut = Array.from({ length: 10 }, (_, i) => 20 + i);
const flip = (v: Verdict): Verdict => (v === 'abnormal' ? 'normal' : 'abnormal');
const truthVerdict = (i: number): Verdict => (truth[i] ? 'abnormal' : 'normal');
/** Images 4 and 5 are split (the second expert disagrees); image 7's first two experts are both wrong. */
const votes: VoteSource = {
  vote(image, k) {
    const t = truthVerdict(image);
    const wrong = (image === 4 || image === 5) && k === 1 ? true : image === 7 && k < 2;
    return { expert: `e${k}`, verdict: wrong ? flip(t) : t };
  },
  lead: (image) => truthVerdict(image),
};
/** A fake model: right about every image once it has seen 6 labels, "all normal" before. */
const trainer = async (train: readonly number[]) =>
  Float32Array.from({ length: N }, (_, i) => (train.length >= 6 ? (truth[i] ? 0.9 : 0.1) : 0.2));

const base = (ordering: Ordering): ReplayOptions => ({
  bundles,
  truth,
  pool,
  heldOut,
  votes,
  consensus: { votesRequired: 2, votesMax: 3 },
  ordering,
  trainer,
  retrainEvery: 5,
});

describe('labeling replay', () => {
  test('every ordering ends with the same consensus after the same number of labels', async () => {
    const a = await replay(base(randomOrdering(N, 1)));
    const b = await replay(base(uncertaintyOrdering(N, 2)));
    assert.deepEqual(a.consensus, b.consensus);
    // 17 agreed images × 2 votes + 2 split images × 3 votes + image 7 (2 wrong agreeing votes) × 2.
    assert.equal(a.curve.at(-1)!.labels, 20 * 2 + 2);
    assert.equal(b.curve.at(-1)!.labels, 42);
    assert.equal(a.consensus[7], 1 - truth[7], 'two agreeing wrong votes make a label error');
    assert.equal(a.curve.at(-1)!.labelErrors, 1);
    assert.deepEqual([...a.consensus.slice(20)], new Array(10).fill(-1), 'held-out images are never labeled');
  });

  test('the model is retrained every `retrainEvery` labels and scored on the held-out truth', async () => {
    const r = await replay(base(randomOrdering(N, 3)));
    assert.deepEqual(
      r.curve.map((p) => p.labels),
      [0, 5, 10, 15, 20, 25, 30, 35, 40, 42],
    );
    assert.equal(r.curve[0].balancedAccuracy, 0.5, 'no model: everything called normal');
    assert.equal(r.curve.at(-1)!.balancedAccuracy, 1);
    assert.deepEqual(r.curve.at(-1)!.heldOut, { tp: 3, fp: 0, tn: 7, fn: 0 });
  });

  test('a tie goes to the lead, whose decision costs one label', async () => {
    const r = await replay({ ...base(randomOrdering(N, 4)), consensus: { votesRequired: 2, votesMax: 2 } });
    assert.equal(r.states.get(4)!.lead, truthVerdict(4));
    assert.equal(r.states.get(4)!.outcome.status, 'resolved');
    assert.equal(r.curve.at(-1)!.labels, 20 * 2 + 2);
  });

  test('an ordering that picks an image needing no vote is an error', async () => {
    const broken: Ordering = { name: 'broken', next: () => 25 };
    await assert.rejects(replay(base(broken)), /broken picked image 25/);
  });

  test('maxLabels stops the replay early', async () => {
    const r = await replay({ ...base(randomOrdering(N, 5)), maxLabels: 12 });
    assert.equal(r.curve.at(-1)!.labels, 12);
  });
});

describe('labels to reach a target', () => {
  const curve = [0.5, 0.7, 0.82, 0.76, 0.81, 0.83, 0.8].map(
    (balancedAccuracy, k) => ({ labels: 25 * k, balancedAccuracy }) as CurvePoint,
  );
  test('"first" is the first point at or above the target', () => {
    assert.equal(labelsToReach(curve, 0.8, 'first'), 50);
    assert.equal(labelsToReach(curve, 0.9, 'first'), null);
  });
  test('"stays" ignores a lucky touch followed by a fall below target − tolerance', () => {
    assert.equal(labelsToReach(curve, 0.8, 'stays', 0.01), 100);
    assert.equal(labelsToReach(curve, 0.8, 'stays', 0.05), 50);
  });
});

describe('model-vs-consensus review', () => {
  test('counts label errors among the most confident contradictions', async () => {
    const r = await replay(base(randomOrdering(N, 6)));
    // A model that knows the truth contradicts exactly the one wrong label (image 7) most.
    const p = Float32Array.from({ length: N }, (_, i) => (truth[i] ? 0.95 : 0.05));
    const report = reviewCatches(
      r.consensus,
      truth,
      (i) => Math.abs(p[i] - r.consensus[i]),
      r.states,
      randomRanks(N, 1),
      [1, 2],
    );
    assert.equal(report.resolved, 20);
    assert.equal(report.labelErrors, 1);
    assert.deepEqual(report.rows[0], { k: 1, caught: 1, caughtBySplit: 0, expectedRandom: 0.05 });
    // Image 7's wrong votes agreed: the split ranking puts the split (correct) images 4 and 5 first.
    assert.equal(report.rows[1].caughtBySplit, 0);
  });
});
