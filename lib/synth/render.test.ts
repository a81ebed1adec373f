import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeStats } from '../imaging/stats.ts';
import { ANOMALY_TYPES, PAPER, planDataset, type ImageSpec } from './plan.ts';
import { ElectrodeRenderer, renderImage } from './render.ts';

const roundHundred = (x: number) => Math.round(x / 100) * 100;
const statsOf = (im: ImageSpec, px: Uint16Array) =>
  computeStats({ width: im.width, height: im.height, bitDepth: 16, data: px });

describe('synthetic electrode pixels', () => {
  test('small scale: the paper’s global-bounds procedure gives Gmin = 1700 and Gmax = 28000', () => {
    const plan = planDataset({ seed: 2022, scale: 'small' });
    let gmin = Infinity;
    let gmax = -Infinity;
    let inRange = 0;
    let total = 0;
    for (const im of plan.images) {
      const px = renderImage(plan, im);
      const s = statsOf(im, px);
      gmin = Math.min(gmin, s.p0_01);
      gmax = Math.max(gmax, s.p99_99);
      for (let i = 0; i < px.length; i++) if (px[i] >= 1700 && px[i] <= 2800) inRange++;
      total += px.length;
    }
    assert.equal(roundHundred(gmin), PAPER.globalMin);
    assert.equal(roundHundred(gmax), PAPER.globalMax);
    assert.ok(
      inRange / total > 0.99,
      `only ${((100 * inRange) / total).toFixed(2)} % of pixels in 1700–2800`,
    );
  });

  test('full scale (subsample): the particle image sets 28000, the darkest bundle sets 1700', () => {
    const plan = planDataset({ seed: 2022, scale: 'full' });
    const gmaxImage = plan.images.find((i) => i.artifact?.peak === PAPER.globalMax)!;
    assert.equal(statsOf(gmaxImage, renderImage(plan, gmaxImage)).p99_99, PAPER.globalMax);

    const darkest = plan.bundles.reduce((a, b) =>
      b.substrate - 3.2 * b.noise < a.substrate - 3.2 * a.noise ? b : a,
    );
    const others = plan.bundles.filter((b) => b !== darkest);
    const pick = (bundleIndex: number, n: number) =>
      plan.images.filter((i) => i.bundleIndex === bundleIndex).slice(0, n);
    const lows = pick(darkest.index, 2).map((im) => statsOf(im, renderImage(plan, im)).p0_01);
    for (const p of lows) assert.equal(roundHundred(p), PAPER.globalMin, `p0.01 ${p}`);
    for (const b of [others[0], others[others.length - 1]]) {
      const [im] = pick(b.index, 1);
      const s = statsOf(im, renderImage(plan, im));
      assert.ok(s.p0_01 >= Math.min(...lows), `${im.file}: p0.01 ${s.p0_01} below the darkest bundle`);
      assert.ok(s.p99_99 < 3000, `${im.file}: p99.99 ${s.p99_99}: the coating should stay below ~2800`);
    }
  });

  test('rows are a pure function of y: random access equals streaming', () => {
    const plan = planDataset({ seed: 7, scale: 'small' });
    const im = plan.images.find((i) => i.anomalies.length >= 2)!;
    const r = new ElectrodeRenderer(plan, im);
    const all = r.toArray();
    const row = new Uint16Array(im.width);
    for (const y of [im.height - 1, 0, Math.floor(im.height / 2), 3]) {
      r.row(y, row);
      assert.deepEqual(row, all.subarray(y * im.width, (y + 1) * im.width));
    }
    assert.deepEqual(renderImage(plan, im), all);
  });
});

describe('anomaly rendering', () => {
  // One clean full-scale electrode, re-rendered with a single anomaly: the noise and texture streams do not depend
  // on the anomalies, so the difference to the clean image is exactly the anomaly.
  const plan = planDataset({ seed: 2022, scale: 'full' });
  const clean = plan.images.find((i) => i.anomalies.length === 0 && !i.artifact)!;
  const base = renderImage(plan, clean);
  const F = 5; // ~1145×2072 → ~229×414, about the 448×224 input a frozen-CNN head would see

  /**
   * What survives resizing: the number of 5×5 blocks whose mean changed by at least 60 grey values (~1.5× the
   * detector noise of one full-resolution pixel, ~8× that of a block mean).
   */
  function visibleBlocks(a: Uint16Array, b: Uint16Array, w: number, h: number): number {
    let n = 0;
    for (let by = 0; by + F <= h; by += F) {
      for (let bx = 0; bx + F <= w; bx += F) {
        let d = 0;
        for (let y = by; y < by + F; y++) for (let x = bx; x < bx + F; x++) d += a[y * w + x] - b[y * w + x];
        if (Math.abs(d) / (F * F) >= 60) n++;
      }
    }
    return n;
  }

  for (const type of ANOMALY_TYPES) {
    test(`${type}: drawn inside its reported region, stronger when severe, visible at reduced resolution`, () => {
      const effect = (severity: number) => {
        const im: ImageSpec = { ...clean, anomalies: [{ type, severity }], maxSeverity: severity };
        const r = new ElectrodeRenderer(plan, im);
        const px = r.toArray();
        let total = 0;
        let inside = 0;
        const boxes = r.regions[0].boxes;
        for (let y = 0; y < im.height; y++) {
          for (let x = 0; x < im.width; x++) {
            const d = Math.abs(px[y * im.width + x] - base[y * im.width + x]);
            if (d === 0) continue;
            total += d;
            // 3 px of slack: border ramps reach a little beyond a moved border.
            if (boxes.some((b) => x >= b.x0 - 3 && x < b.x1 + 3 && y >= b.y0 - 3 && y < b.y1 + 3))
              inside += d;
          }
        }
        return { total, inside, visible: visibleBlocks(px, base, im.width, im.height) };
      };
      const minor = effect(0.15);
      const severe = effect(0.9);
      assert.ok(minor.total > 0, 'a minor anomaly still changes pixels');
      assert.ok(severe.inside / severe.total > 0.99, 'the change lies inside the reported boxes');
      assert.ok(severe.total > 2 * minor.total, `severe ${severe.total} vs minor ${minor.total}`);
      assert.ok(
        severe.visible >= 20,
        `severe: only ${severe.visible} visibly changed blocks after 5× reduction`,
      );
      assert.ok(
        severe.visible > 2 * minor.visible,
        `visible blocks: severe ${severe.visible}, minor ${minor.visible}`,
      );
    });
  }
});
