import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decideConsensus } from '../../lib/consensus/rule.ts';
import { preDrawPanel } from './panel.ts';
import { platinaOrdering, replayCoverage, statusOf } from './platina.ts';
import type { ImageState, ReplayView } from './replay.ts';
import { summarize } from './report.ts';
import { lineChart, niceTicks } from './svg.ts';

const settings = { votesRequired: 2, votesMax: 3 };
function state(verdicts: ('normal' | 'abnormal')[]): ImageState {
  const votes = verdicts.map((verdict, k) => ({ expert: `e${k}`, verdict }));
  return {
    votes,
    lead: null,
    outcome: decideConsensus(
      votes.map((v) => ({ verdict: v.verdict, anomalies: [] })),
      null,
      settings,
    ),
  };
}

describe("Platina's order in the replay", () => {
  // Images 0–3 in bundle a, 4–7 in bundle b.
  const bundles = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'];
  const pool = bundles.map((_, i) => i);
  const view = (states: Map<number, ImageState>, p: number[] | null): ReplayView => ({
    bundles,
    pool,
    states,
    pAbnormal: p ? Float32Array.from(p) : null,
    modelVersion: p ? 1 : 0,
    labelsSpent: 0,
  });

  test('maps vote states to the runner statuses', () => {
    assert.equal(statusOf(state([])), 'unlabeled');
    assert.equal(statusOf(state(['normal'])), 'pending');
    assert.equal(statusOf(state(['normal', 'abnormal'])), 'pending');
    assert.equal(statusOf(state(['normal', 'normal'])), 'resolved');
  });

  test('a split image gets its next vote before any fresh one, however uncertain', () => {
    const states = new Map(pool.map((i) => [i, state([])]));
    states.set(5, state(['normal', 'abnormal']));
    const p = [0.5, 0.5, 0.5, 0.5, 0.5, 0.01, 0.5, 0.5];
    const order = platinaOrdering(8, 1);
    assert.equal(order.next(view(states, p), pool), 5);
  });

  test('among fresh images: the uncertain one, and the bundle with fewer labels', () => {
    const states = new Map(pool.map((i) => [i, state([])]));
    const order = platinaOrdering(8, 1);
    const p = [0.05, 0.5, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05];
    assert.equal(order.next(view(states, p), [0, 1, 2, 3, 4, 5, 6, 7]), 1);
    // Bundle a has two resolved labels, b none: equal uncertainty → bundle b first.
    states.set(0, state(['normal', 'normal']));
    states.set(1, state(['normal', 'normal']));
    assert.deepEqual(
      [...replayCoverage(view(states, null)).labeled],
      [
        ['a', 2],
        ['b', 0],
      ],
    );
    const flat = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3];
    assert.equal(bundles[order.next(view(states, flat), [2, 3, 4, 5, 6, 7])], 'b');
  });

  // Two evidence values per image; image 6 lies far from every other image of either bundle.
  const evidence = {
    vectors: Float32Array.from([1, 2, 1.1, 2.2, 0.9, 1.9, 1.2, 2.1, 1, 2.1, 1.1, 1.9, 9, -7, 0.9, 2]),
    dim: 2,
  };

  test('before the first model: started images first, then fresh ones by unusualness', () => {
    const states = new Map(pool.map((i) => [i, state([])]));
    const order = platinaOrdering(8, 1, evidence);
    assert.equal(order.next(view(states, null), pool), 6);
    states.set(2, state(['normal']));
    assert.equal(order.next(view(states, null), pool), 2);
  });

  test('with a model: unusualness within its bundle breaks a tie of uncertainty and coverage', () => {
    const states = new Map(pool.map((i) => [i, state([])]));
    const order = platinaOrdering(8, 1, evidence);
    const flat = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3];
    // The term is the percentile within the bundle: among bundle b's images, the unusual one.
    assert.equal(order.next(view(states, flat), [4, 5, 6, 7]), 6);
  });
});

describe('pre-drawn panel', () => {
  const experts = ['x', 'y', 'z', 'w'].map((id, e) => ({
    id,
    verdict: (i: number) => ((i + e) % 2 === 0 ? ('abnormal' as const) : ('normal' as const)),
  }));
  test('the k-th vote of an image is fixed per seed and comes from a different expert each time', () => {
    const a = preDrawPanel(10, experts, 3, 7, () => 'normal');
    const b = preDrawPanel(10, experts, 3, 7, () => 'normal');
    for (let i = 0; i < 10; i++) {
      const votes = [0, 1, 2].map((k) => a.vote(i, k));
      assert.deepEqual(
        votes,
        [0, 1, 2].map((k) => b.vote(i, k)),
      );
      assert.equal(new Set(votes.map((v) => v.expert)).size, 3);
    }
    assert.throws(() => a.vote(0, 3), /panel draws 3/);
  });
  test('needs as many experts as votes per image', () => {
    assert.throws(() => preDrawPanel(1, experts.slice(0, 2), 3, 1, () => 'normal'), /need 3 experts/);
  });
});

describe('summary over seeds', () => {
  const curve = (ys: number[]) =>
    ys.map((balancedAccuracy, k) => ({
      labels: 25 * k,
      balancedAccuracy,
      resolved: 0,
      resolvedAbnormal: 0,
      labelErrors: 0,
      heldOut: { tp: 0, fp: 0, tn: 0, fn: 0 },
    }));
  const review = {
    resolved: 10,
    labelErrors: 1,
    rows: [{ k: 10, caught: 1, caughtBySplit: 0, expectedRandom: 1 }],
  };
  const seed = (s: number, fast: number, slow: number) => ({
    seed: s,
    heldOutBundles: [],
    heldOutImages: 10,
    heldOutAbnormal: 2,
    poolImages: 20,
    target: 0.8,
    totalLabels: 100,
    orders: [
      { order: 'platina', curve: curve([0.5, 0.7, 0.8, 0.8, 0.8]), first: fast, stays: fast, seconds: 1 },
      { order: 'random', curve: curve([0.5, 0.6, 0.7, 0.8, 0.8]), first: slow, stays: slow, seconds: 1 },
    ],
    review: { inSample: review },
  });
  test('savings are 1 − labels / random labels per seed, with mean, sd and range', () => {
    const s = summarize([seed(0, 50, 100), seed(1, 60, 80)], ['platina', 'random']);
    const platina = s.orders[0];
    assert.deepEqual(platina.savingStays, [0.5, 0.25]);
    assert.equal(platina.savingStaysStat!.mean, 0.375);
    assert.equal(platina.savingStaysStat!.min, 0.25);
    assert.ok(Math.abs(platina.savingStaysStat!.sd - Math.sqrt(2 * 0.125 ** 2)) < 1e-12);
    // On the averaged curves: platina reaches 0.8 at 50 labels, random at 75.
    assert.equal(platina.meanCurveStays, 50);
    assert.equal(s.orders[1].meanCurveStays, 75);
  });
});

describe('SVG line chart', () => {
  test('ticks are round and cover the data', () => {
    assert.deepEqual(niceTicks(0.5, 0.87, 6), [0.5, 0.6, 0.7, 0.8, 0.9]);
    assert.deepEqual(niceTicks(0, 1225, 6), [0, 500, 1000, 1500]);
  });
  test('draws one line per series, a legend entry each, and escapes text', () => {
    const svg = lineChart({
      title: 'A < B',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'one',
          color: '#f00',
          points: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        {
          name: 'two & more',
          color: '#00f',
          points: [
            { x: 0, y: 1 },
            { x: 1, y: 0 },
          ],
        },
      ],
      reference: { y: 0.5, label: 'ref' },
    });
    assert.equal(svg.match(/<polyline /g)?.length, 2);
    assert.match(svg, /A &lt; B/);
    assert.match(svg, /two &amp; more/);
    assert.match(svg, /stroke-dasharray="6 4"/);
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  });
});
