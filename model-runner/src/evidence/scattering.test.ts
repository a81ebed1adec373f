import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import {
  buildScatteringModel,
  firstOrderLevel,
  gaussian1d,
  halfBand,
  orientation,
  pairIndex,
  phiSigmaAtLevel,
  poolScattering,
  scatteringEnergyMap,
  scatteringFeatureCount,
  scatteringMinSize,
  scatteringOutputSize,
  secondOrderCount,
  waveletAtLevel,
  SCATTERING_DEFAULTS,
  type ComplexKernel,
  type ScatteringMaps,
} from './scattering.ts';

const config = SCATTERING_DEFAULTS;
const { J, L } = config;
const K = J - 1;

// ---------------------------------------------------------------------------------------------
// A direct reference: full-resolution filters, naive 2-D convolution, the same subsampling convention
// (U1_j at stride 2^min(j+1, J−1), ψ_j2 sampled on U1_j1's grid, φ from each map's level to stride 2^(J−1)),
// reflect boundaries at every stage — and no pyramid.

interface Plane {
  data: Float64Array;
  h: number;
  w: number;
}

const reflect = (i: number, n: number): number => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);

/** y(s·p) = Σ_k f(k) x(s·p − k) for a complex kernel; returns |y| (or re only when the kernel is real). */
function convolve(x: Plane, k: ComplexKernel, stride: number, modulus: boolean): Plane {
  const h = Math.ceil(x.h / stride);
  const w = Math.ceil(x.w / stride);
  const r = k.radius;
  const n = 2 * r + 1;
  const out = new Float64Array(h * w);
  for (let py = 0; py < h; py++)
    for (let px = 0; px < w; px++) {
      let re = 0;
      let im = 0;
      for (let ky = -r; ky <= r; ky++) {
        const row = reflect(py * stride - ky, x.h) * x.w;
        for (let kx = -r; kx <= r; kx++) {
          const v = x.data[row + reflect(px * stride - kx, x.w)];
          const i = (ky + r) * n + (kx + r);
          re += k.re[i] * v;
          im += k.im[i] * v;
        }
      }
      out[py * w + px] = modulus ? Math.hypot(re, im) : re;
    }
  return { data: out, h, w };
}

function phi2d(sigma: number): ComplexKernel {
  const g = gaussian1d(sigma);
  const n = g.length;
  const re = new Float64Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) re[y * n + x] = g[y] * g[x];
  return { radius: (n - 1) / 2, re, im: new Float64Array(n * n) };
}

const average = (u: Plane, level: number) =>
  convolve(u, phi2d(phiSigmaAtLevel(J, level)), 2 ** (K - level), false);

function referenceScattering(x: Plane): { s0: Plane; s1: Plane[]; s2: Plane[] } {
  const s0 = average(x, 0);
  const u1: Plane[][] = [];
  const s1: Plane[] = [];
  for (let j = 0; j < J; j++) {
    u1.push([]);
    for (let l = 0; l < L; l++) {
      const u = convolve(x, waveletAtLevel(j, l, L, 0), 2 ** firstOrderLevel(j, J), true);
      u1[j].push(u);
      s1.push(average(u, firstOrderLevel(j, J)));
    }
  }
  const s2: Plane[] = [];
  for (let j1 = 0; j1 < J; j1++)
    for (let j2 = j1 + 1; j2 < J; j2++) {
      const a = firstOrderLevel(j1, J);
      const b = firstOrderLevel(j2, J);
      for (let l1 = 0; l1 < L; l1++)
        for (let l2 = 0; l2 < L; l2++) {
          const u2 = convolve(u1[j1][l1], waveletAtLevel(j2, l2, L, a), 2 ** (b - a), true);
          s2.push(average(u2, b));
        }
    }
  return { s0, s1, s2 };
}

// ---------------------------------------------------------------------------------------------

let session: ort.InferenceSession;

async function runGraph(data: Float32Array, h: number, w: number): Promise<ScatteringMaps> {
  const out = await session.run({ image: new ort.Tensor('float32', data, [1, 1, h, w]) });
  const [, , oh, ow] = out.s1.dims;
  return {
    s0: out.s0.data as Float32Array,
    s1: out.s1.data as Float32Array,
    s2: out.s2.data as Float32Array,
    h: oh,
    w: ow,
  };
}

function mulberry(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Unit white noise plus a bright blob, a dark line and a step edge: energy at every scale and orientation. */
function testImage(h: number, w: number, seed = 7): Float32Array {
  const rnd = mulberry(seed);
  const x = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let i = 0; i < w; i++) {
      const noise = (rnd() + rnd() + rnd() - 1.5) * 2;
      const blob = 8 * Math.exp(-((y - 20) ** 2 + (i - 40) ** 2) / (2 * 3 * 3));
      const line = Math.abs(y - 0.6 * i - 30) < 1.5 ? -5 : 0;
      const step = i > 50 ? 3 : 0;
      x[y * w + i] = noise + blob + line + step;
    }
  return x;
}

/** Relative L2 error of graph channels against reference planes: ‖a − b‖ / ‖b‖. */
function relativeError(graph: Float32Array, ref: Plane[], channels: number[], n: number): number {
  let num = 0;
  let den = 0;
  for (const c of channels) {
    const g = graph.subarray(c * n, (c + 1) * n);
    for (let i = 0; i < n; i++) {
      num += (g[i] - ref[c].data[i]) ** 2;
      den += ref[c].data[i] ** 2;
    }
  }
  return Math.sqrt(num / den);
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

before(async () => {
  session = await ort.InferenceSession.create(buildScatteringModel(config), { intraOpNumThreads: 1 });
});

describe('Morlet filter bank', () => {
  test('every wavelet sums to zero and its envelope to about one (Kymatio normalisation)', () => {
    for (let j = 0; j < J; j++)
      for (let l = 0; l < L; l++) {
        const psi = waveletAtLevel(j, l, L, 0);
        const sre = psi.re.reduce((s, v) => s + v, 0);
        const sim = psi.im.reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(sre) < 1e-12 && Math.abs(sim) < 1e-12, `ψ(${j},${l}) sums to ${sre} + ${sim}i`);
        const modulus = psi.re.reduce((s, v, i) => s + Math.hypot(v, psi.im[i]), 0);
        assert.ok(modulus > 0.8 && modulus < 1.2, `Σ|ψ(${j},${l})| = ${modulus}`);
      }
    const phi = gaussian1d(phiSigmaAtLevel(J, 0));
    assert.ok(Math.abs(phi.reduce((s, v) => s + v, 0) - 1) < 1e-12, 'φ sums to 1');
    assert.ok(Math.abs(halfBand().reduce((s, v) => s + v, 0) - 1) < 1e-12, 'the half-band filter sums to 1');
  });

  test('each wavelet peaks in frequency at ξ = 3π/(4·2^j) in direction θ_l, and the θ_l cover [0, π) in steps of π/L', () => {
    const dft = (k: ComplexKernel, wy: number, wx: number): number => {
      const n = 2 * k.radius + 1;
      let re = 0;
      let im = 0;
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) {
          const p = -(wy * (y - k.radius) + wx * (x - k.radius));
          const i = y * n + x;
          re += k.re[i] * Math.cos(p) - k.im[i] * Math.sin(p);
          im += k.re[i] * Math.sin(p) + k.im[i] * Math.cos(p);
        }
      return Math.hypot(re, im);
    };
    for (const j of [0, 1]) {
      for (let l = 0; l < L; l++) {
        const psi = waveletAtLevel(j, l, L, 0);
        let best = { v: -1, r: 0, a: 0 };
        for (let ri = 1; ri <= 64; ri++)
          for (let ai = 0; ai < 4 * L; ai++) {
            const r = (ri / 64) * Math.PI;
            const a = (ai / (4 * L)) * 2 * Math.PI;
            const v = dft(psi, r * Math.cos(a), r * Math.sin(a));
            if (v > best.v) best = { v, r, a };
          }
        const xi = (0.75 * Math.PI) / 2 ** j;
        assert.ok(Math.abs(best.r - xi) < 0.2 * xi, `ψ(${j},${l}) peaks at |ω| = ${best.r}, expected ${xi}`);
        const dTheta = Math.abs(best.a - orientation(l, L));
        const wrapped = Math.min(dTheta % (2 * Math.PI), 2 * Math.PI - (dTheta % (2 * Math.PI)));
        assert.ok(wrapped < 1e-9, `ψ(${j},${l}) peaks at angle ${best.a}, expected ${orientation(l, L)}`);
      }
    }
    const angles = range(0, L)
      .map((l) => (((orientation(l, L) % Math.PI) + Math.PI) % Math.PI) / (Math.PI / L))
      .sort((a, b) => a - b);
    assert.deepEqual(
      angles.map((a) => Math.round(a * 1e9) / 1e9),
      range(0, L),
    );
  });

  test('the level-sampled wavelet is the full-resolution one sampled at every 2^level-th tap, times 4^level', () => {
    const full = waveletAtLevel(2, 3, L, 0);
    const coarse = waveletAtLevel(2, 3, L, 1);
    const n = 2 * full.radius + 1;
    const m = 2 * coarse.radius + 1;
    // The zero-mean correction differs slightly between the grids; compare the Gabor part at the centre row.
    const y = coarse.radius;
    for (let x = 0; x < m; x++) {
      const fi = 2 * (y - coarse.radius) + full.radius;
      const fx = 2 * (x - coarse.radius) + full.radius;
      const peak = 4 * Math.max(...full.re);
      const d = Math.abs(coarse.re[y * m + x] - 4 * full.re[fi * n + fx]);
      assert.ok(d < 2e-3 * peak, `tap ${x}: ${coarse.re[y * m + x]} vs ${4 * full.re[fi * n + fx]}`);
    }
  });
});

describe('scattering graph', () => {
  test('outputs s0, s1 [J·L] and s2 [L²·J(J−1)/2] at stride 2^(J−1) for any size from the minimum', async () => {
    assert.equal(scatteringMinSize(config), 33);
    for (const [h, w] of [
      [33, 33],
      [64, 64],
      [65, 100],
      [288, 518],
    ]) {
      const maps = await runGraph(new Float32Array(h * w), h, w);
      const size = scatteringOutputSize(h, w, config);
      assert.deepEqual([maps.h, maps.w], [size.h, size.w]);
      assert.equal(maps.s0.length, size.h * size.w);
      assert.equal(maps.s1.length, J * L * size.h * size.w);
      assert.equal(maps.s2.length, secondOrderCount(config) * size.h * size.w);
      assert.equal(secondOrderCount(config), 384);
    }
  });

  test('equals the direct full-resolution reference on a 65×65 image: s0 and scales 0-1 exactly, the pyramid within 2 %', async () => {
    const H = 65;
    const x = testImage(H, H);
    const maps = await runGraph(x, H, H);
    const ref = referenceScattering({ data: Float64Array.from(x), h: H, w: H });
    const n = maps.h * maps.w;
    assert.equal(ref.s0.data.length, n);

    const e0 = relativeError(maps.s0, [ref.s0], [0], n);
    assert.ok(e0 < 1e-5, `s0 error ${e0}`);
    const errors: Record<string, number> = {};
    for (let j = 0; j < J; j++)
      errors[`s1.j${j}`] = relativeError(maps.s1, ref.s1, range(j * L, (j + 1) * L), n);
    for (let j1 = 0; j1 < J; j1++)
      for (let j2 = j1 + 1; j2 < J; j2++) {
        const p = pairIndex(j1, j2, J);
        errors[`s2.j${j1}.j${j2}`] = relativeError(maps.s2, ref.s2, range(p * L * L, (p + 1) * L * L), n);
      }
    console.log('graph vs direct reference, relative L2 error:', JSON.stringify(errors));
    // No pyramid on these paths: ψ_0 and ψ_1 run on the full-resolution image, ψ_j2 on U1_j1's own grid.
    for (const key of ['s1.j0', 's1.j1', 's2.j0.j1', 's2.j0.j2', 's2.j1.j2', 's2.j1.j3'])
      assert.ok(errors[key] < 1e-5, `${key}: ${errors[key]}`);
    // Paths through the half-band pyramid: ψ_2, ψ_3 on x's levels 1, 2 (s1.j2, s1.j3 and s2.j2.j3, which
    // inherits U1_2), U1_0 decimated to level 2 before ψ_3 (s2.j0.j3). Measured 0.4-0.7 %.
    for (const [key, e] of Object.entries(errors)) assert.ok(e < 0.02, `${key}: ${e}`);

    // The tolerance is meaningful: a graph whose orientations were off by one would miss it by far.
    const shifted = relativeError(
      maps.s1,
      range(0, J * L).map((c) => ref.s1[c - (c % L) + ((c + 1) % L)]),
      range(0, J * L),
      n,
    );
    assert.ok(shifted > 0.1, `orientations shifted by one still match within ${shifted}`);
  });

  test('a constant image gives s1 and s2 of zero and s0 of the constant', async () => {
    const [h, w] = [48, 80];
    const maps = await runGraph(new Float32Array(h * w).fill(5), h, w);
    assert.ok(
      maps.s0.every((v) => Math.abs(v - 5) < 1e-4),
      's0 is the constant',
    );
    assert.ok(
      maps.s1.every((v) => Math.abs(v) < 1e-4),
      `max |s1| ${Math.max(...maps.s1)}`,
    );
    assert.ok(
      maps.s2.every((v) => Math.abs(v) < 1e-4),
      's2 is zero',
    );
    const noisy = await runGraph(testImage(h, w), h, w);
    assert.ok(Math.max(...noisy.s1) > 0.5, 'a non-constant image has first-order energy');
  });

  test("a translated small blob moves the energy map's argmax by the translation / stride", async () => {
    const [h, w] = [96, 160];
    const blob = (cy: number, cx: number) => {
      const x = new Float32Array(h * w);
      for (let y = 0; y < h; y++)
        for (let i = 0; i < w; i++)
          x[y * w + i] = 10 * Math.exp(-((y - cy) ** 2 + (i - cx) ** 2) / (2 * 1.5 ** 2));
      return x;
    };
    const argmax = async (cy: number, cx: number) => {
      const maps = await runGraph(blob(cy, cx), h, w);
      const e = scatteringEnergyMap(maps, config);
      let best = 0;
      for (let i = 1; i < e.length; i++) if (e[i] > e[best]) best = i;
      return [Math.floor(best / maps.w), best % maps.w];
    };
    const stride = 2 ** K;
    const a = await argmax(32, 40);
    assert.deepEqual(a, [32 / stride, 40 / stride]);
    const b = await argmax(32 + 24, 40 + 72);
    assert.deepEqual(b, [a[0] + 3, a[1] + 9]);
  });
});

describe('poolScattering', () => {
  test('gives the documented number of named values, finite, and unchanged by horizontal and vertical flips', async () => {
    // 57 × 121: H − 1 and W − 1 divisible by the stride, so a flip maps the sampling grid onto itself.
    const [h, w] = [57, 121];
    const x = testImage(h, w, 3);
    const hflip = new Float32Array(h * w);
    const vflip = new Float32Array(h * w);
    for (let y = 0; y < h; y++)
      for (let i = 0; i < w; i++) {
        hflip[y * w + i] = x[y * w + (w - 1 - i)];
        vflip[y * w + i] = x[(h - 1 - y) * w + i];
      }
    const a = poolScattering(await runGraph(x, h, w), config);
    assert.equal(a.values.length, scatteringFeatureCount(config));
    assert.equal(a.values.length, 236);
    assert.equal(new Set(a.names).size, a.names.length, 'names are unique');
    assert.ok(
      a.names.every((n) => n.startsWith('scattering.')),
      'names carry the block prefix',
    );
    assert.ok(a.values.every(Number.isFinite), 'values are finite');
    for (const flipped of [hflip, vflip]) {
      const b = poolScattering(await runGraph(flipped, h, w), config);
      let worst = { d: 0, name: '' };
      for (let i = 0; i < a.values.length; i++) {
        const d = Math.abs(a.values[i] - b.values[i]) / (Math.abs(a.values[i]) + 1e-3);
        if (d > worst.d) worst = { d, name: a.names[i] };
      }
      assert.ok(worst.d < 1e-3, `flip changes ${worst.name} by ${worst.d}`);
    }
  });

  test('a small local defect shows in the max and grid max far more than in the mean', async () => {
    const [h, w] = [128, 256];
    const rnd = mulberry(11);
    const base = Float32Array.from({ length: h * w }, () => (rnd() + rnd() + rnd() - 1.5) * 2);
    const defect = Float32Array.from(base);
    for (let y = 60; y < 64; y++) for (let i = 100; i < 104; i++) defect[y * w + i] += 6;
    const a = poolScattering(await runGraph(base, h, w), config);
    const b = poolScattering(await runGraph(defect, h, w), config);
    const at = (p: typeof a, name: string) => p.values[p.names.indexOf(`scattering.${name}`)];
    const ratio = (name: string) => Math.expm1(at(b, name)) / Math.expm1(at(a, name));
    // A 4×4 defect of 6 noise units in a 128×256 image: the spatial mean barely moves, the max and q0.99 do.
    assert.ok(ratio('s1.j2.mean.mean') < 1.05, `mean × ${ratio('s1.j2.mean.mean')}`);
    assert.ok(ratio('s1.j2.mean.max') > 2, `max × ${ratio('s1.j2.mean.max')}`);
    assert.ok(ratio('s1.j2.mean.q0.99') > 1.3, `q0.99 × ${ratio('s1.j2.mean.q0.99')}`);
    const gain = (name: string) => at(b, name) - at(a, name);
    assert.ok(
      gain('s1.j2.mean.gridmax') > 2 * gain('s1.j2.mean.mean'),
      `grid max +${gain('s1.j2.mean.gridmax')}, mean +${gain('s1.j2.mean.mean')}`,
    );
  });
});
