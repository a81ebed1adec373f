import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleInputsCache } from './rule-inputs-cache.ts';
import type { ImageRuleInputs, RuleInputs } from '../consensus/consensus.repository.ts';

const read = (images: [string, ImageRuleInputs][]): RuleInputs => ({
  settingsText: '{"votesRequired":3}',
  settings: new Map([['votesRequired', 3]]),
  images: new Map(images),
});
const oneVote: ImageRuleInputs = {
  revision: '0',
  votes: [{ user_id: '7', verdict: 'normal', anomalies: [] }],
  latest: undefined,
};
const neverVoted: ImageRuleInputs = { revision: null, votes: [], latest: undefined };

test('presumes nothing until it has read the settings', () => {
  assert.equal(new RuleInputsCache().presumed(['1']), undefined);
});

test('presumes what it read or wrote last, and an image it never saw as never voted on', () => {
  const cache = new RuleInputsCache();
  cache.learn(read([['1', oneVote]]));
  cache.wrote('2', { ...oneVote, revision: '4' });
  const p = cache.presumed(['1', '2', '3'])!;
  assert.equal(p.settingsText, '{"votesRequired":3}');
  assert.deepEqual(p.images.get('1'), oneVote);
  assert.equal(p.images.get('2')!.revision, '4');
  assert.deepEqual(p.images.get('3'), neverVoted);
});

test('a refused write forgets the image and the settings; a write by another path forgets the image', () => {
  const cache = new RuleInputsCache();
  cache.learn(
    read([
      ['1', oneVote],
      ['2', oneVote],
    ]),
  );
  cache.forget('1');
  assert.deepEqual(cache.presumed(['1'])!.images.get('1'), neverVoted);
  cache.refused('2');
  assert.equal(cache.presumed(['2']), undefined, 'the next batch must read afresh');
  cache.learn(read([]));
  assert.deepEqual(cache.presumed(['2'])!.images.get('2'), neverVoted);
});

test('holds at most its capacity, evicting the image written longest ago', () => {
  const cache = new RuleInputsCache(2);
  cache.learn(read([]));
  cache.wrote('1', oneVote);
  cache.wrote('2', oneVote);
  cache.wrote('1', oneVote); // written again: now the newest
  cache.wrote('3', oneVote);
  const p = cache.presumed(['1', '2', '3'])!;
  assert.deepEqual(p.images.get('1'), oneVote);
  assert.deepEqual(p.images.get('2'), neverVoted, 'evicted');
  assert.deepEqual(p.images.get('3'), oneVote);
});
