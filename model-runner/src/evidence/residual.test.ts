import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GrayImage } from '../../../lib/imaging/gray-image.ts';
import { residualEvidence, residualFeatureNames, type ResidualEvidence } from './residual.ts';
import { noisePicture, paint, type Picture, to16, to8 } from './residual-fixtures.ts';
import { unslog } from './robust.ts';
import { workingImage } from './working-image.ts';

// 400×300 pictures stay at working factor 1, so areas and positions are in image pixels.
const W = 400;
const H = 300;
const LEVEL = 3000;
const SIGMA = 40;

const evidence = (image: GrayImage): ResidualEvidence => residualEvidence(workingImage(image));
const value = (e: ResidualEvidence, name: string): number => {
  const i = e.names.indexOf(name);
  assert.ok(i >= 0, `no feature ${name}`);
  return e.values[i];
};
const count = (e: ResidualEvidence, name: string) => Math.round(Math.expm1(value(e, name)));
const flat = (seed = 1): Picture => noisePicture(W, H, LEVEL, SIGMA, seed);

describe('residualEvidence on a flat, noisy image', () => {
  const e = evidence(to16(flat()));

  test('finds (almost) no regions: |z| > 4 is ~3 pixels in 100 000 for white noise, |z| > 6 none', () => {
    assert.ok(count(e, 'residual.region.s1.pos4.log_count') <= 10);
    assert.ok(count(e, 'residual.region.s1.neg4.log_count') <= 10);
    assert.equal(count(e, 'residual.region.s1.abs6.log_count'), 0);
    assert.ok(count(e, 'residual.region.s3.pos4.log_count') <= 10);
    assert.equal(value(e, 'residual.s1.frac.abs6'), 0);
    assert.ok(count(e, 'residual.region.s1.pos4.log_largest_px') <= 2);
  });

  test('z is unit-scale: 1 % tails near ±2.33, mean |z| near 0.80', () => {
    assert.ok(Math.abs(unslog(value(e, 'residual.s1.z.q99')) - 2.33) < 0.1);
    assert.ok(Math.abs(unslog(value(e, 'residual.s1.z.q01')) + 2.33) < 0.1);
    assert.ok(Math.abs(value(e, 'residual.s1.absz.mean') - 0.798) < 0.02);
  });

  test('no line, edge or cell stands out', () => {
    for (const name of [
      'residual.profile.rows.absz.max',
      'residual.profile.cols.absz.max',
      'residual.profile.diag.absz.max',
      'residual.profile.rows.segment.absz.max',
      'residual.profile.cols.segment.absz.max',
    ])
      assert.ok(unslog(value(e, name)) < 4.5, `${name} = ${unslog(value(e, name))}`);
    assert.ok(Math.abs(value(e, 'residual.edge.level.min')) < 0.5);
    assert.ok(Math.abs(value(e, 'residual.edge.level.max')) < 0.5);
    assert.ok(Math.abs(value(e, 'residual.edge.noise.ratio.max')) < 0.15); // ln of the ratio
    assert.ok(Math.abs(value(e, 'residual.profile.rows.excess')) < 0.2); // ln of excess spread
  });

  test('the coating level is the median over the largest value, its spread the IQR', () => {
    assert.ok(Math.abs(value(e, 'residual.level.median') - LEVEL / 65535) < 1e-5);
    // IQR of N(0, σ) is 1.349 σ
    assert.ok(Math.abs(value(e, 'residual.level.iqr') - (1.349 * SIGMA) / 65535) < 2e-5);
  });
});

describe('residualEvidence sees local defects', () => {
  test('a small bright disc is one region of its area, and the map peaks on it', () => {
    const [cx, cy, r] = [137, 211, 3];
    const inDisc = (x: number, y: number) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
    const e = evidence(to16(paint(flat(), (x, y) => (inDisc(x, y) ? 20 * SIGMA : 0))));
    let area = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (inDisc(x, y)) area++;
    assert.equal(area, 29);
    assert.equal(count(e, 'residual.region.s1.pos4.log_largest_px'), area);
    assert.equal(count(e, 'residual.region.s1.abs6.log_largest_px'), area);
    assert.ok(unslog(value(e, 'residual.s1.z.max')) > 15);
    let best = 0;
    for (let i = 1; i < e.map.length; i++) if (e.map[i] > e.map[best]) best = i;
    assert.ok(inDisc(best % e.mapWidth, Math.floor(best / e.mapWidth)), `peak at ${best}`);
    // The grid keeps it: one cell's max |z| far above the median cell's.
    assert.ok(value(e, 'residual.grid.s1.absz.max.spread') > 1.2);
    // A disc is not a line.
    assert.ok(unslog(value(e, 'residual.profile.rows.absz.max')) < 5);
  });

  test('a faint extended spot (1.5σ over a 9×9 square) is invisible per pixel but a region at scale 3', () => {
    const e = evidence(
      to16(paint(flat(), (x, y) => (Math.abs(x - 200) <= 4 && Math.abs(y - 150) <= 4 ? 1.5 * SIGMA : 0))),
    );
    assert.equal(count(e, 'residual.region.s1.abs6.log_count'), 0);
    assert.ok(count(e, 'residual.region.s3.pos4.log_largest_px') >= 9);
  });

  test('a dark disc shows in the negative tail and negative regions', () => {
    const e = evidence(
      to16(paint(flat(), (x, y) => ((x - 300) ** 2 + (y - 80) ** 2 <= 16 ? -10 * SIGMA : 0))),
    );
    assert.ok(count(e, 'residual.region.s1.neg4.log_largest_px') >= 45);
    assert.ok(unslog(value(e, 'residual.s1.z.min')) < -8);
  });
});

describe('line profiles', () => {
  test('a faint horizontal line (1σ) raises the row statistic and not the column one', () => {
    const e = evidence(to16(paint(flat(), (_x, y) => (y === 150 ? SIGMA : 0))));
    assert.ok(unslog(value(e, 'residual.profile.rows.absz.max')) > 10);
    assert.ok(count(e, 'residual.profile.rows.log_count4') >= 1);
    assert.ok(unslog(value(e, 'residual.profile.cols.absz.max')) < 4.5);
    assert.equal(count(e, 'residual.profile.cols.log_count4'), 0);
  });

  test('a vertical line raises the column statistic and not the row one', () => {
    const e = evidence(to16(paint(flat(), (x) => (x === 77 ? SIGMA : 0))));
    assert.ok(unslog(value(e, 'residual.profile.cols.absz.max')) > 8);
    assert.ok(unslog(value(e, 'residual.profile.rows.absz.max')) < 4.5);
  });

  test('a scratch over a quarter of the width shows in the row segments more than in full rows', () => {
    const e = evidence(to16(paint(flat(), (x, y) => (y === 100 && x < 100 ? SIGMA : 0))));
    const segment = unslog(value(e, 'residual.profile.rows.segment.absz.max'));
    assert.ok(segment > 7, `segment ${segment}`);
    assert.ok(segment > unslog(value(e, 'residual.profile.rows.absz.max')) * 1.5);
  });

  test('a diagonal line shows in the diagonal statistic', () => {
    const e = evidence(to16(paint(flat(), (x, y) => (x - y === 60 ? 1.5 * SIGMA : 0))));
    assert.ok(unslog(value(e, 'residual.profile.diag.absz.max')) > 10);
  });
});

describe('background removal', () => {
  test('a strong gradient, a bowl and a broad bump leave the residual as it was', () => {
    const plain = evidence(to16(flat(3)));
    const slow = evidence(
      to16(
        paint(flat(3), (x, y) => {
          const gradient = 3 * x + 2 * y; // 60σ across the image
          const bowl = 0.004 * ((x - 200) ** 2 + (y - 150) ** 2); // 10σ at the corners
          const bump = 2 * SIGMA * Math.exp(-((x - 120) ** 2 + (y - 180) ** 2) / (2 * 80 ** 2));
          return gradient + bowl + bump;
        }),
      ),
    );
    let worst = 0;
    for (let i = 0; i < plain.map.length; i++) worst = Math.max(worst, Math.abs(slow.map[i] - plain.map[i]));
    assert.ok(worst < 0.5, `largest change of z: ${worst}`);
    // Regions of noise pixels near a threshold come and go with tiny changes of z: compared separately below.
    for (const name of plain.names.filter((n) => /\.z\.|absz|profile|edge\.level/.test(n)))
      assert.ok(
        Math.abs(value(slow, name) - value(plain, name)) < 0.25,
        `${name}: ${value(slow, name)} vs ${value(plain, name)}`,
      );
    for (const e of [plain, slow]) {
      assert.equal(count(e, 'residual.region.s1.abs6.log_count'), 0);
      assert.ok(count(e, 'residual.region.s1.pos4.log_count') <= 12);
      assert.ok(count(e, 'residual.region.s1.neg4.log_count') <= 12);
    }
    // ... while the background features report the slow shape.
    assert.ok(value(slow, 'residual.background.tilt') > 0.3);
    assert.ok(value(plain, 'residual.background.tilt') < 0.01);
  });
});

describe('edge bands', () => {
  test('a left band 6 px wide and 4σ darker shows in the edge level and nowhere in a flat image', () => {
    const plain = evidence(to16(flat()));
    const e = evidence(to16(paint(flat(), (x) => (x < 6 ? -4 * SIGMA : 0))));
    // The band is 9 px (3 % of 300): 6 of them are 4σ darker → −2.67σ.
    assert.ok(value(e, 'residual.edge.level.min') < -2, `${value(e, 'residual.edge.level.min')}`);
    assert.ok(value(plain, 'residual.edge.level.min') > -0.5);
    assert.ok(unslog(value(e, 'residual.edge.absz.max')) > 3);
  });

  test('a noisier band raises the band noise ratio', () => {
    const extra = noisePicture(W, H, 0, 2 * SIGMA, 9);
    const e = evidence(to16(paint(flat(), (x, y) => (y >= H - 9 ? extra.v[y * W + x] : 0))));
    assert.ok(Math.exp(value(e, 'residual.edge.noise.ratio.max')) > 1.8);
  });

  test('a notch cut into the top edge shows as a local deviation of the edge profile', () => {
    const plain = evidence(to16(flat()));
    const e = evidence(to16(paint(flat(), (x, y) => (x >= 200 && x < 215 && y < 9 ? -4 * SIGMA : 0))));
    assert.ok(unslog(value(e, 'residual.edge.profile.dev.max')) > 6);
    assert.ok(unslog(value(plain, 'residual.edge.profile.dev.max')) < 4.5);
  });
});

describe('generic across bit depths and sizes', () => {
  test('8-bit and 16-bit versions of the same picture give the same statistics', () => {
    const picture = () =>
      paint(noisePicture(W, H, 30000, 771, 5), (x, y) => {
        const disc = (x - 100) ** 2 + (y - 100) ** 2 <= 16 ? 10 * 771 : 0;
        const line = y === 220 ? 771 : 0;
        return disc + line + 2 * x;
      });
    const e16 = evidence(to16(picture()));
    const e8 = evidence(to8(picture()));
    assert.deepEqual(e8.names, e16.names);
    for (const name of e16.names.filter((n) => !/region|log_count|frac\.abs[46]|noise\./.test(n)))
      assert.ok(
        Math.abs(value(e8, name) - value(e16, name)) < 0.1 + 0.03 * Math.abs(value(e16, name)),
        `${name}: 8-bit ${value(e8, name)}, 16-bit ${value(e16, name)}`,
      );
    assert.equal(count(e8, 'residual.region.s1.pos4.log_largest_px'), 49);
    assert.ok(
      Math.abs(value(e8, 'residual.noise.pixel.log') - value(e16, 'residual.noise.pixel.log')) < 0.05,
    );
  });

  test('a 40×30 and a 2070×1150 image both work and give the same names', () => {
    const small = evidence(to16(noisePicture(40, 30, LEVEL, SIGMA)));
    const big = evidence(to16(noisePicture(1150, 2070, LEVEL, SIGMA)));
    assert.deepEqual(small.names, [...residualFeatureNames()]);
    assert.deepEqual(big.names, [...residualFeatureNames()]);
    assert.equal(new Set(big.names).size, big.names.length);
    assert.ok(small.values.every(Number.isFinite) && big.values.every(Number.isFinite));
    assert.deepEqual([small.mapWidth, small.mapHeight], [80, 60]);
    assert.deepEqual([big.mapWidth, big.mapHeight], [287, 517]);
    assert.ok(count(big, 'residual.region.s1.abs6.log_count') === 0);
  });

  test('a constant image gives finite, quiet statistics', () => {
    const e = evidence(to16(noisePicture(300, 300, LEVEL, 0)));
    assert.ok(e.values.every(Number.isFinite));
    assert.equal(count(e, 'residual.region.s1.pos4.log_count'), 0);
    assert.ok(e.map.every((v) => v === 0));
  });

  test('flipping the image leaves the evidence (nearly) unchanged, so flip augmentation does not touch it', () => {
    const p = paint(
      flat(),
      (x, y) => ((x - 50) ** 2 + (y - 60) ** 2 <= 9 ? 15 * SIGMA : 0) + (x < 5 ? -SIGMA : 0),
    );
    const flipped: Picture = { width: W, height: H, v: new Float64Array(W * H) };
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) flipped.v[y * W + x] = p.v[(H - 1 - y) * W + (W - 1 - x)];
    const a = evidence(to16(p));
    const b = evidence(to16(flipped));
    for (const name of a.names)
      assert.ok(
        Math.abs(value(a, name) - value(b, name)) < 0.05 + 0.05 * Math.abs(value(a, name)),
        `${name}: ${value(a, name)} vs ${value(b, name)}`,
      );
  });
});
