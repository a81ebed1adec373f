import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BundlePatternError, compileBundlePattern } from './bundle-pattern.ts';

describe('the bundle pattern of a watched folder', () => {
  test('{bundle}/** takes the first folder, at any depth below it', () => {
    const p = compileBundlePattern('{bundle}/**');
    assert.equal(p.bundleOf('cell-7/a.tif'), 'cell-7');
    assert.equal(p.bundleOf('cell-7/run-2/a.tif'), 'cell-7');
    assert.equal(p.bundleOf('loose.tif'), null);
  });

  test('a folder below a wildcard folder, and a part of a file name', () => {
    assert.equal(compileBundlePattern('station-*/{bundle}/*.tif').bundleOf('station-3/B12/x.tif'), 'B12');
    assert.equal(compileBundlePattern('station-*/{bundle}/*.tif').bundleOf('other/B12/x.tif'), null);
    const byName = compileBundlePattern('**/{bundle}_*.tif');
    assert.equal(byName.bundleOf('2026/12/L04_0001.tif'), 'L04');
    assert.equal(byName.bundleOf('L04_0001.tif'), 'L04');
    assert.equal(byName.bundleOf('L04-0001.tif'), null);
  });

  test('a pattern without exactly one {bundle} is refused, saying what it needs', () => {
    for (const bad of ['*/*.tif', '{bundle}/{bundle}.tif'])
      assert.throws(
        () => compileBundlePattern(bad),
        (err: Error) =>
          err instanceof BundlePatternError && /must contain \{bundle\} exactly once/.test(err.message),
      );
  });
});
