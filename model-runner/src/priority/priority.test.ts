import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computePriority, coverageFrom, uncertainty, type PriorityInput } from './priority.ts';

const base: PriorityInput = {
  pAbnormal: 0.5,
  status: 'unlabeled',
  verdict: null,
  normalVotes: 0,
  abnormalVotes: 0,
  bundle: 'B1',
};
const even = coverageFrom([
  ['B1', 10],
  ['B2', 10],
]);

describe('labeling priority', () => {
  test('uncertainty is 1 at p = 0.5 and 0 when the model is sure', () => {
    assert.equal(uncertainty(0.5), 1);
    assert.equal(uncertainty(0), 0);
    assert.equal(uncertainty(1), 0);
    assert.ok(Math.abs(uncertainty(0.75) - 0.5) < 1e-12);
  });

  test('among unlabeled images the uncertain one comes first', () => {
    const unsure = computePriority({ ...base, pAbnormal: 0.52 }, even);
    const sure = computePriority({ ...base, pAbnormal: 0.02 }, even);
    assert.ok(unsure.priority > sure.priority);
    assert.match(unsure.reason, /^model unsure, P\(abnormal\) 0\.52$/);
    assert.match(sure.reason, /^model confident/);
  });

  test('a bundle with few labels lifts its images (coverage) and says so', () => {
    const cov = coverageFrom([
      ['B1', 40],
      ['B2', 2],
    ]);
    const seen = computePriority({ ...base, pAbnormal: 0.1, bundle: 'B1' }, cov);
    const starved = computePriority({ ...base, pAbnormal: 0.1, bundle: 'B2' }, cov);
    assert.ok(starved.priority > seen.priority);
    assert.match(starved.reason, /bundle B2 has few labels \(2 of up to 40\)/);
    const never = computePriority({ ...base, pAbnormal: 0.1, bundle: 'B9' }, cov);
    assert.ok(never.priority > starved.priority);
  });

  test('a 2–1 image needs its next vote sooner than any fresh image, and sooner than a 2–0 one', () => {
    const split = computePriority(
      { ...base, status: 'pending', normalVotes: 2, abnormalVotes: 1, pAbnormal: 0.05 },
      even,
    );
    const agreeing = computePriority(
      { ...base, status: 'pending', normalVotes: 2, abnormalVotes: 0, pAbnormal: 0.05 },
      even,
    );
    const freshUnsure = computePriority({ ...base, pAbnormal: 0.5, bundle: 'B3' }, even);
    assert.ok(split.priority > agreeing.priority);
    assert.ok(agreeing.priority > freshUnsure.priority);
    assert.match(split.reason, /^experts split 2–1: needs its next vote/);
    assert.match(agreeing.reason, /^2 votes so far, agreeing/);
  });

  test('a resolved image the model confidently contradicts ranks as a likely label error', () => {
    const contradicted = computePriority(
      { ...base, status: 'resolved', verdict: 'normal', pAbnormal: 0.95 },
      even,
    );
    const agreed = computePriority({ ...base, status: 'resolved', verdict: 'normal', pAbnormal: 0.05 }, even);
    const mild = computePriority({ ...base, status: 'resolved', verdict: 'abnormal', pAbnormal: 0.4 }, even);
    assert.ok(Math.abs(contradicted.priority - 0.9) < 1e-12);
    assert.equal(agreed.priority, 0);
    assert.ok(mild.priority > 0 && mild.priority < contradicted.priority);
    assert.match(
      contradicted.reason,
      /model contradicts the consensus \(normal\) with P\(abnormal\) 0\.95: possible label error/,
    );
    assert.match(agreed.reason, /^model agrees with the consensus \(normal\)/);
  });

  test('a tie waiting for the lead has the top priority and says why', () => {
    const tie = computePriority({ ...base, status: 'needs_lead', normalVotes: 2, abnormalVotes: 2 }, even);
    assert.equal(tie.priority, 2);
    assert.match(tie.reason, /^tie 2–2: waiting for the lead/);
  });

  test('an unusual image rises among equally uncertain ones, and says so; without a score the formula from before issue 13 holds', () => {
    const unusual = computePriority({ ...base, pAbnormal: 0.3, unusualness: 1 }, even);
    const ordinary = computePriority({ ...base, pAbnormal: 0.3, unusualness: 0.2 }, even);
    const unscored = computePriority({ ...base, pAbnormal: 0.3 }, even);
    assert.ok(unusual.priority > ordinary.priority);
    assert.ok(Math.abs(unusual.priority - (0.65 * 0.6 + 0.2 * 0 + 0.15)) < 1e-12);
    assert.ok(Math.abs(unscored.priority - (0.75 * 0.6 + 0.25 * 0)) < 1e-12, 'pre-issue-13 formula');
    assert.match(unusual.reason, /; looks unusual \(top 1 % of B1\)$/);
    assert.doesNotMatch(ordinary.reason, /unusual/);
    // A modest weight: a confident model's verdict still outweighs unusualness alone.
    const sureButUnusual = computePriority({ ...base, pAbnormal: 0.02, unusualness: 1 }, even);
    const unsureOrdinary = computePriority({ ...base, pAbnormal: 0.5, unusualness: 0 }, even);
    assert.ok(unsureOrdinary.priority > sureButUnusual.priority);
  });
});
