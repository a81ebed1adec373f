import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { table1 } from './table1.ts';
import type { ModelDto, Score } from '../../../lib/api-types/models.ts';

const cm = (tp: number, fp: number, tn: number, fn: number): Score => ({
  tp,
  fp,
  tn,
  fn,
  balancedAccuracy: tp + fn && tn + fp ? (tp / (tp + fn) + tn / (tn + fp)) / 2 : null,
});

const model = (method: 1 | 2 | 3 | 4, createdAt: string, perBundle: [string, Score][]): ModelDto => ({
  version: `${method}-${createdAt}`,
  createdAt,
  method,
  active: false,
  trainedOn: { images: 10, bundles: perBundle.length },
  crossValidation: { perBundle: perBundle.map(([bundle, c]) => ({ bundle, ...c })), overall: cm(1, 1, 1, 1) },
  backbone: { kind: 'untrained', hash: 'h', untrained: true },
  inputSize: { height: 224, width: 448 },
  features: 'paper',
  evidenceVersion: null,
  globalBounds: null,
  labelSnapshotHash: 's',
  settings: {},
  jobId: null,
});

describe('Table 1 layout', () => {
  test('one column per method from its newest cross-validated model, bundles as rows in natural order', () => {
    const t = table1([
      model(2, '2026-01-01T00:00:00Z', [['B2', cm(1, 0, 1, 0)]]),
      model(2, '2026-02-01T00:00:00Z', [
        ['B10', cm(1, 1, 1, 1)],
        ['B2', cm(2, 0, 2, 0)],
      ]),
      model(1, '2026-01-15T00:00:00Z', [['B1', cm(0, 0, 3, 1)]]),
      { ...model(3, '2026-03-01T00:00:00Z', []), crossValidation: null },
    ]);
    assert.deepEqual(t.methods, [1, 2]);
    assert.deepEqual(t.bundles, ['B1', 'B2', 'B10']);
    assert.equal(t.cell(2, 'B2')!.tp, 2, 'the newer model of method 2 wins');
    assert.equal(t.cell(1, 'B2'), null);
  });

  test('a bundle without abnormal images keeps an undefined (null) balanced accuracy', () => {
    const t = table1([model(4, '2026-01-01T00:00:00Z', [['B7', cm(0, 1, 5, 0)]])]);
    assert.equal(t.cell(4, 'B7')!.balancedAccuracy, null);
  });

  test('per-type average precision comes from the same model version as the method’s column', () => {
    const withTypes = model(3, '2026-02-01T00:00:00Z', [['B1', cm(1, 0, 1, 0)]]);
    withTypes.crossValidation!.anomalies = {
      minPositives: 5,
      perType: [
        { code: 'bubbles', positives: 9, images: 40, averagePrecision: 0.5, priorOnlyAveragePrecision: 0.2 },
      ],
    };
    const t = table1([model(2, '2026-01-01T00:00:00Z', [['B1', cm(1, 0, 1, 0)]]), withTypes]);
    assert.deepEqual(t.typeMethods, [3], 'method 2’s version has no type head');
    assert.equal(t.typeScore(3, 'bubbles')?.averagePrecision, 0.5);
    assert.equal(t.typeScore(3, 'scratches'), null);
  });
});
