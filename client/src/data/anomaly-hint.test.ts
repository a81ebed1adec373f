import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANOMALY_TYPES } from '../../../lib/anomaly-types.ts';
import { typeHint } from './anomaly-hint.ts';

/** A prediction as `GET /api/images/:id/prediction` gives it: all 11 types, low unless listed. */
const prediction = (high: Record<string, number>) => ({
  anomalies: ANOMALY_TYPES.map((t) => ({ code: t.code, p: high[t.code] ?? 0.02 })),
});

test('blind by default: with model hints off nothing is pre-selected and the vote records no type hint', () => {
  assert.deepEqual(typeHint(false, prediction({ scratches: 0.97 }), ANOMALY_TYPES), {
    preselect: [],
    anomalyHint: null,
  });
});

test('with model hints on, the types above 0.5 are pre-selected in the paper order and recorded', () => {
  const hint = typeHint(true, prediction({ bubbles: 0.81, scratches: 0.64, lines: 0.5 }), ANOMALY_TYPES);
  assert.deepEqual(hint.preselect, ['scratches', 'bubbles'], 'exactly 0.5 is not "likely"');
  assert.deepEqual(hint.anomalyHint, ['scratches', 'bubbles']);
});

test('a hint with no likely type is still a hint shown: the vote records an empty list', () => {
  assert.deepEqual(typeHint(true, prediction({}), ANOMALY_TYPES), { preselect: [], anomalyHint: [] });
});

test('no readable prediction (403 blind, 404 none yet) or one without types (an older model) shows no type hint', () => {
  assert.deepEqual(typeHint(true, null, ANOMALY_TYPES), { preselect: [], anomalyHint: null });
  assert.deepEqual(typeHint(true, { anomalies: [] }, ANOMALY_TYPES), { preselect: [], anomalyHint: null });
});
