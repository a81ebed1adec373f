import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { dawidSkene, type DsVote } from './dawid-skene.ts';

/** mulberry32: a tiny seeded PRNG, so every run simulates the same experts. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Simulation {
  truth: Map<string, boolean>;
  votes: DsVote[];
}

/**
 * Simulates `images` electrodes with the paper's prevalence of abnormal ones (21.29 %, section 2.2) and
 * experts of known accuracy (the probability that a vote equals the truth, the same for both classes);
 * each image is judged by `perImage` experts drawn at random without replacement.
 */
function simulate(seed: number, images: number, accuracies: number[], perImage: number): Simulation {
  const random = rng(seed);
  const truth = new Map<string, boolean>();
  const votes: DsVote[] = [];
  for (let i = 0; i < images; i++) {
    const imageId = `img${i}`;
    const abnormal = random() < 0.2129;
    truth.set(imageId, abnormal);
    const experts = accuracies.map((_, j) => j);
    for (let k = 0; k < perImage; k++) {
      const j = experts.splice(Math.floor(random() * experts.length), 1)[0];
      const correct = random() < accuracies[j];
      votes.push({ imageId, expertId: `e${j}`, abnormal: correct ? abnormal : !abnormal });
    }
  }
  return { truth, votes };
}

function majorityErrors(sim: Simulation): number {
  const tally = new Map<string, number>();
  for (const v of sim.votes) tally.set(v.imageId, (tally.get(v.imageId) ?? 0) + (v.abnormal ? 1 : -1));
  let errors = 0;
  for (const [id, score] of tally) {
    if (score === 0)
      errors += 0.5; // a tie is a coin flip
    else if (score > 0 !== sim.truth.get(id)) errors += 1;
  }
  return errors;
}

function dsErrors(sim: Simulation): number {
  const { posterior } = dawidSkene(sim.votes);
  let errors = 0;
  for (const [id, p] of posterior) if (p > 0.5 !== sim.truth.get(id)) errors += 1;
  return errors;
}

describe('Dawid–Skene on simulated experts of known accuracy', () => {
  test('estimates every expert accuracy within ±0.05 (400 images, 5 experts, every expert votes on every image)', () => {
    const accuracies = [0.95, 0.9, 0.85, 0.8, 0.7];
    for (const seed of [1, 2, 3]) {
      const sim = simulate(seed, 400, accuracies, 5);
      const result = dawidSkene(sim.votes);
      assert.ok(result.converged);
      for (const expert of result.experts) {
        const truth = accuracies[Number(expert.expertId.slice(1))];
        assert.ok(
          Math.abs(expert.accuracy - truth) <= 0.05,
          `seed ${seed}: ${expert.expertId} estimated ${expert.accuracy.toFixed(3)}, true ${truth}`,
        );
      }
      assert.ok(Math.abs(result.prior - 0.2129) <= 0.05, `prior ${result.prior}`);
    }
  });

  // With 3 votes per image each expert casts ~600 votes, of which only ~130 on abnormal images, so the
  // sampling error of the true per-expert accuracy alone is ~±0.03; over seeds 1–8 the largest deviation
  // we measured was 0.051, hence the wider tolerance.
  test('estimates accuracies within ±0.06 when each of 1000 images gets only 3 of 5 experts (the default overlap)', () => {
    const accuracies = [0.95, 0.9, 0.85, 0.8, 0.7];
    for (const seed of [7, 8]) {
      const sim = simulate(seed, 1000, accuracies, 3);
      for (const expert of dawidSkene(sim.votes).experts) {
        const truth = accuracies[Number(expert.expertId.slice(1))];
        assert.ok(
          Math.abs(expert.accuracy - truth) <= 0.06,
          `${expert.expertId}: ${expert.accuracy} vs ${truth}`,
        );
      }
    }
  });

  test('beats the majority vote when one of five experts is careless (accuracy 0.55)', () => {
    const accuracies = [0.92, 0.9, 0.88, 0.85, 0.55];
    let ds = 0;
    let majority = 0;
    for (const seed of [11, 12, 13]) {
      const sim = simulate(seed, 400, accuracies, 3);
      ds += dsErrors(sim);
      majority += majorityErrors(sim);
    }
    assert.ok(ds < majority, `Dawid–Skene ${ds} errors, majority ${majority} errors over 1200 images`);
  });

  test('finds the careless expert: the lowest estimated accuracy belongs to the expert at 0.55', () => {
    const sim = simulate(21, 400, [0.92, 0.9, 0.88, 0.85, 0.55], 3);
    const experts = dawidSkene(sim.votes).experts.sort((x, y) => x.accuracy - y.accuracy);
    assert.equal(experts[0].expertId, 'e4');
  });
});

describe('Dawid–Skene edge cases', () => {
  test('returns the same result whatever the order of the votes', () => {
    const sim = simulate(5, 100, [0.9, 0.8, 0.7], 3);
    const forward = dawidSkene(sim.votes);
    const backward = dawidSkene([...sim.votes].reverse());
    assert.equal(forward.iterations, backward.iterations);
    for (const [id, p] of forward.posterior) assert.ok(Math.abs(p - backward.posterior.get(id)!) < 1e-12);
  });

  test('handles no votes, and keeps probabilities strictly inside (0, 1) when everyone agrees', () => {
    const empty = dawidSkene([]);
    assert.equal(empty.posterior.size, 0);
    assert.deepEqual(empty.experts, []);
    const agree = dawidSkene([
      { imageId: 'x', expertId: 'a', abnormal: true },
      { imageId: 'x', expertId: 'b', abnormal: true },
      { imageId: 'y', expertId: 'a', abnormal: false },
      { imageId: 'y', expertId: 'b', abnormal: false },
    ]);
    assert.ok(agree.posterior.get('x')! > 0.5 && agree.posterior.get('x')! < 1);
    assert.ok(agree.posterior.get('y')! < 0.5 && agree.posterior.get('y')! > 0);
    for (const e of agree.experts) assert.ok(e.sensitivity < 1 && e.specificity < 1 && e.votes === 2);
  });

  test('stops at maxIterations and says it did not converge', () => {
    const sim = simulate(9, 100, [0.9, 0.8, 0.7], 3);
    const result = dawidSkene(sim.votes, { maxIterations: 1, tolerance: 0 });
    assert.equal(result.iterations, 1);
    assert.equal(result.converged, false);
  });
});
