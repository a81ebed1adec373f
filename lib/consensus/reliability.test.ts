import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { agreementWithOthers, belowPanel, type PanelVote } from './reliability.ts';

const votes = (rows: [string, string, 'n' | 'a'][]): PanelVote<string>[] =>
  rows.map(([imageId, expertId, label]) => ({ imageId, expertId, label }));

describe('agreement with the other experts (leave-one-out)', () => {
  test('an expert is compared with the others’ majority, never with a majority their own vote made', () => {
    // Image 1: ana and ben say abnormal, cid normal. With cid's own vote in a 2–1 "consensus", cid would
    // still disagree; but ana is compared with {ben a, cid n}: a tie, which does not count.
    const r = agreementWithOthers(
      votes([
        ['1', 'ana', 'a'],
        ['1', 'ben', 'a'],
        ['1', 'cid', 'n'],
        ['2', 'ana', 'n'],
        ['2', 'ben', 'n'],
        ['2', 'cid', 'n'],
      ]),
    );
    assert.deepEqual(r.get('ana'), { images: 1, agreement: 1, kappa: null });
    assert.equal(r.get('cid')!.images, 2);
    assert.equal(r.get('cid')!.agreement, 0.5);
  });

  test('an image nobody else voted on does not count', () => {
    const r = agreementWithOthers(votes([['1', 'ana', 'a']]));
    assert.deepEqual(r.get('ana'), { images: 0, agreement: null, kappa: null });
  });
});

describe('below the panel', () => {
  const member = (id: string, sensitivity: number, specificity = 0.95, votes = 50) => ({
    id,
    votes,
    sensitivity,
    specificity,
  });

  test('marks the expert whose sensitivity is more than the margin below the others’ median', () => {
    const r = belowPanel([member('ana', 0.85), member('ben', 0.8), member('cid', 0.45)]);
    assert.deepEqual(r.get('cid'), ['sensitivity']);
    assert.deepEqual(r.get('ana'), []);
    assert.deepEqual(r.get('ben'), []);
  });

  test('differences within the margin are not marked', () => {
    const r = belowPanel([member('ana', 0.85), member('ben', 0.8), member('cid', 0.72)]);
    assert.deepEqual([...r.values()].flat(), []);
  });

  test('specificity is judged the same way', () => {
    const r = belowPanel([member('ana', 0.8, 0.95), member('ben', 0.8, 0.93), member('cid', 0.8, 0.7)]);
    assert.deepEqual(r.get('cid'), ['specificity']);
  });

  test('few votes are neither judged nor part of the panel; two experts alone are not judged', () => {
    const r = belowPanel([member('ana', 0.85), member('ben', 0.8), member('lead', 0.1, 0.1, 3)]);
    assert.deepEqual([...r.values()].flat(), []);
  });
});
