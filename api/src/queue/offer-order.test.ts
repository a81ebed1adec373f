import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offerOrder } from './queue.service.ts';

const candidates = (leased: Record<string, number> = {}) => ({
  own: ['9'],
  byModel: ['1', '2'],
  started: ['3', '1'],
  byUnusualness: ['6', '4'],
  fresh: ['4', '5'],
  leasedByOthers: new Map(Object.entries(leased)),
});

test('the own lease comes first, then the orderings in turn: model priority, started, unusualness, fresh', () => {
  assert.deepEqual(offerOrder(candidates(), new Set()), ['9', '1', '2', '3', '6', '4', '5']);
});

test('images other experts hold come after every image nobody holds, keeping their order', () => {
  assert.deepEqual(offerOrder(candidates({ '1': 1, '4': 2 }), new Set()), [
    '9',
    '2',
    '3',
    '6',
    '5',
    '1',
    '4',
  ]);
});

test('images the client already holds (prefetch) are never offered, not even the own lease', () => {
  assert.deepEqual(offerOrder(candidates(), new Set(['9', '2'])), ['1', '3', '6', '4', '5']);
});
