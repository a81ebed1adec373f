import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ANOMALY_TYPES, PAPER, SEVERE, planDataset, type DatasetPlan } from './plan.ts';

const full = planDataset({ seed: 2022, scale: 'full' });
const small = planDataset({ seed: 2022, scale: 'small' });

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const count = (plan: DatasetPlan, verdict: string) => plan.images.filter((i) => i.verdict === verdict).length;

describe('synthetic data plan at full scale (the paper, section 2.2)', () => {
  test('has 714 images in 12 bundles: 562 normal and 152 abnormal', () => {
    assert.equal(full.bundles.length, 12);
    assert.equal(full.images.length, 714);
    assert.equal(count(full, 'normal'), 562);
    assert.equal(count(full, 'abnormal'), 152);
  });

  test('bundles differ in size and abnormal rate, and some have very few abnormal images', () => {
    const sizes = full.bundles.map((b) => b.images);
    const rates = full.bundles.map((b) => b.abnormal / b.images);
    assert.ok(Math.max(...sizes) >= 4 * Math.min(...sizes), `sizes ${sizes}`);
    assert.ok(Math.max(...rates) - Math.min(...rates) > 0.2, `rates ${rates}`);
    assert.ok(full.bundles.filter((b) => b.abnormal <= 3).length >= 2);
    for (const b of full.bundles) {
      const imgs = full.images.filter((i) => i.bundle === b.name);
      assert.equal(imgs.length, b.images);
      assert.equal(imgs.filter((i) => i.verdict === 'abnormal').length, b.abnormal);
    }
  });

  test('widths span 1119–1219 with mean ≈1145 and heights 2053–2115 with mean ≈2072', () => {
    const w = full.images.map((i) => i.width);
    const h = full.images.map((i) => i.height);
    assert.equal(Math.min(...w), PAPER.width.min);
    assert.equal(Math.max(...w), PAPER.width.max);
    assert.equal(Math.min(...h), PAPER.height.min);
    assert.equal(Math.max(...h), PAPER.height.max);
    assert.ok(Math.abs(mean(w) - 1145) < 1.5, `mean width ${mean(w)}`);
    assert.ok(Math.abs(mean(h) - 2072.1) < 1.5, `mean height ${mean(h)}`);
  });

  test('every abnormal image has a severe anomaly and no normal image has one', () => {
    for (const im of full.images) {
      const severe = im.anomalies.some((a) => a.severity >= SEVERE);
      assert.equal(severe, im.verdict === 'abnormal', im.file);
      assert.equal(im.maxSeverity, Math.max(0, ...im.anomalies.map((a) => a.severity)));
    }
  });

  test('a good share of normal images carry minor anomalies (figure 2d)', () => {
    const normals = full.images.filter((i) => i.verdict === 'normal');
    const minor = normals.filter((i) => i.anomalies.length > 0).length / normals.length;
    assert.ok(minor > 0.3 && minor < 0.6, `share ${minor}`);
  });

  test('every anomaly type appears, as a severe anomaly and as a minor one', () => {
    for (const plan of [full, small]) {
      for (const t of ANOMALY_TYPES) {
        const all = plan.images.flatMap((i) => i.anomalies).filter((a) => a.type === t);
        assert.ok(
          all.some((a) => a.severity >= SEVERE),
          `${plan.scale}: no severe ${t}`,
        );
        assert.ok(
          all.some((a) => a.severity < SEVERE),
          `${plan.scale}: no minor ${t}`,
        );
      }
    }
  });

  test('borderline severities exist on both sides of the threshold and set the difficulty', () => {
    const justSevere = full.images.filter((i) => i.maxSeverity >= 0.5 && i.maxSeverity < 0.6).length;
    const justMinor = full.images.filter((i) => i.maxSeverity >= 0.4 && i.maxSeverity < 0.5).length;
    assert.ok(justSevere >= 20, `${justSevere} images just above the threshold`);
    assert.ok(justMinor >= 20, `${justMinor} images just below the threshold`);
    for (const im of full.images) {
      assert.ok(im.difficulty >= 0 && im.difficulty <= 1);
      if (im.anomalies.length === 0 || Math.abs(im.maxSeverity - 0.5) >= 0.2) assert.equal(im.difficulty, 0);
    }
    const atThreshold = full.images.filter((i) => i.maxSeverity === 0.5);
    for (const im of atThreshold) assert.equal(im.difficulty, 1);
  });

  test('exactly one image carries the particles that set the method-2 upper bound of 28000', () => {
    const withParticles = full.images.filter((i) => i.artifact);
    assert.ok(withParticles.length >= 5 && withParticles.length <= 20, `${withParticles.length}`);
    const atMax = withParticles.filter((i) => i.artifact!.peak === PAPER.globalMax);
    assert.equal(atMax.length, 1);
    assert.ok(atMax[0].artifact!.coverage > 1e-4, 'must cover more than the 0.01 % tail');
    for (const i of withParticles) assert.ok(i.artifact!.peak <= PAPER.globalMax);
  });

  test('bundles have their own coating (density, noise, grain) and anomaly mix', () => {
    const spread = (f: (b: DatasetPlan['bundles'][number]) => number) =>
      Math.max(...full.bundles.map(f)) - Math.min(...full.bundles.map(f));
    assert.ok(spread((b) => b.coating) > 100);
    assert.ok(spread((b) => b.noise) > 8);
    assert.ok(spread((b) => b.grainRadius) > 1.5);
    const top = full.bundles.map((b) => b.typeWeights.indexOf(Math.max(...b.typeWeights)));
    assert.ok(new Set(top).size >= 5, `favourite types ${top}`);
  });
});

describe('synthetic data plan at small scale and other shapes', () => {
  test('small scale has 12 bundles × 8 images at 1/8 of the size, with ~21 % abnormal', () => {
    assert.equal(small.images.length, 96);
    for (const b of small.bundles) assert.equal(b.images, 8);
    assert.equal(count(small, 'abnormal'), Math.round((96 * 152) / 714));
    for (const im of small.images) {
      assert.ok(im.width >= Math.round(1119 / 8) && im.width <= Math.round(1219 / 8));
      assert.ok(im.height >= Math.round(2053 / 8) && im.height <= Math.round(2115 / 8));
    }
  });

  test('--bundles changes the bundle count but keeps the paper totals at full scale', () => {
    for (const n of [1, 5, 20]) {
      const p = planDataset({ seed: 1, scale: 'full', bundles: n });
      assert.equal(p.bundles.length, n);
      assert.equal(p.images.length, 714);
      assert.equal(count(p, 'abnormal'), 152);
      assert.equal(new Set(p.images.map((i) => i.file)).size, 714);
    }
    assert.throws(() => planDataset({ seed: 1, scale: 'full', bundles: 0 }), /bundles must be/);
  });

  test('the same seed gives the same plan; another seed another plan', () => {
    assert.deepEqual(planDataset({ seed: 2022, scale: 'full' }), full);
    const other = planDataset({ seed: 2023, scale: 'full' });
    assert.notDeepEqual(
      other.images.map((i) => i.anomalies),
      full.images.map((i) => i.anomalies),
    );
  });
});
