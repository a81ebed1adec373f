/**
 * `npx tsx scripts/embedding-stats.ts --data DIR [--cache DIR] [--size HxW] [--method 1|2|3|4]`
 *
 * Diagnostics of the cached embeddings `npm run cv` wrote (same cache, same backbone from PLATINA_BACKBONE or the
 * offline one): how the features spread across images (scale, spread relative to the mean, dead features, how
 * much of the variance one direction holds), and a leave-one-bundle-out linear probe — a class-balanced ridge
 * classifier on features standardised with the training folds' statistics, solved exactly — which says how much
 * class signal the features carry at all, whatever the head and its optimiser do with them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { globalBounds, isMethod } from '../lib/imaging/conversions.ts';
import { createImagingPool } from '../lib/imaging/imaging-pool.ts';
import { loadBackbone, parseInputSize } from '../model-runner/src/backbone/load.ts';
import { readManifest } from '../model-runner/src/cv/dataset.ts';
import { FileEmbeddingStore } from '../model-runner/src/embeddings/cache.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    cache: { type: 'string' },
    size: { type: 'string', default: '128x64' },
    method: { type: 'string', default: '2' },
  },
});
if (!values.data) throw new Error('usage: --data DIR [--cache DIR] [--size HxW] [--method N]');
const method = Number(values.method);
if (!isMethod(method)) throw new Error(`--method ${values.method}: expected 1–4`);
const size = parseInputSize(values.size);
const images = await readManifest(values.data);
const backbone = await loadBackbone({ ...process.env, PLATINA_INPUT_SIZE: `${size.height}x${size.width}` });
const store = new FileEmbeddingStore(path.resolve(values.cache ?? path.join(values.data, '.embeddings')));
const pool = createImagingPool();
const infos = await Promise.all(images.map((i) => pool.run('inspect', { source: { path: i.path } })));
await pool.close();
const bounds = globalBounds(
  infos.map((i) => i.stats),
  infos[0].bitDepth,
);

const dim = 512;
const n = images.length;
const X = new Float64Array(n * dim);
const y = Uint8Array.from(images, (i) => (i.abnormal ? 1 : 0));
const bundles = images.map((i) => i.bundle);
for (let i = 0; i < n; i++) {
  const sha256 = createHash('sha256')
    .update(await readFile(images[i].path))
    .digest('hex');
  const v = await store.get({
    sha256,
    backboneHash: backbone.hash,
    inputSize: `${size.height}x${size.width}`,
    method,
    globalBounds: bounds ?? undefined,
  });
  if (!v) throw new Error(`no cached embedding for ${images[i].file}: run npm run cv with this size first`);
  for (let d = 0; d < dim; d++) X[i * dim + d] = v[0][d];
}

// Spread of each feature across images (unflipped variant).
const mean = new Float64Array(dim);
const sd = new Float64Array(dim);
for (let d = 0; d < dim; d++) {
  for (let i = 0; i < n; i++) mean[d] += X[i * dim + d] / n;
  for (let i = 0; i < n; i++) sd[d] += (X[i * dim + d] - mean[d]) ** 2 / n;
  sd[d] = Math.sqrt(sd[d]);
}
const avg = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
const median = (a: ArrayLike<number>) => Array.from(a).sort((p, q) => p - q)[a.length >> 1];
let dead = 0;
for (let d = 0; d < dim; d++) if (sd[d] === 0) dead++;
let norm = 0;
for (let i = 0; i < n; i++) {
  let s = 0;
  for (let d = 0; d < dim; d++) s += X[i * dim + d] ** 2;
  norm += Math.sqrt(s) / n;
}
// Share of the variance along the first principal direction (power iteration on the covariance).
let v = new Float64Array(dim).fill(1 / Math.sqrt(dim));
let lambda = 0;
for (let it = 0; it < 200; it++) {
  const proj = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) proj[i] += (X[i * dim + d] - mean[d]) * v[d];
  const w = new Float64Array(dim);
  for (let i = 0; i < n; i++)
    for (let d = 0; d < dim; d++) w[d] += ((X[i * dim + d] - mean[d]) * proj[i]) / n;
  lambda = Math.sqrt(w.reduce((s, x) => s + x * x, 0));
  v = w.map((x) => x / lambda);
}
const total = sd.reduce((s, x) => s + x * x, 0);
console.log(
  `method ${method}, ${size.height}×${size.width}, ${backbone.description}: ${n} images; mean |x| ${norm.toFixed(2)}; ` +
    `feature mean ${avg(mean).toFixed(3)}, spread across images (sd) ${avg(sd).toFixed(4)} = ` +
    `${(100 * median(Array.from(sd, (s, d) => s / Math.abs(mean[d] || 1)))).toFixed(1)} % of the mean (median feature); ` +
    `constant features ${dead}; first principal direction ${((100 * lambda) / total).toFixed(1)} % of the variance`,
);

/** Solves A x = b for a symmetric positive definite A (Cholesky). */
function solve(A: Float64Array, b: Float64Array, m: number): Float64Array {
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j <= i; j++) {
      let s = A[i * m + j];
      for (let k = 0; k < j; k++) s -= L[i * m + k] * L[j * m + k];
      L[i * m + j] = i === j ? Math.sqrt(s) : s / L[j * m + j];
    }
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * m + k] * z[k];
    z[i] = s / L[i * m + i];
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < m; k++) s -= L[k * m + i] * x[k];
    x[i] = s / L[i * m + i];
  }
  return x;
}

// Linear probe, leave one bundle out, pooled counts (as the paper's table).
for (const ridge of [0.01, 0.1, 1]) {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const bundle of [...new Set(bundles)].sort()) {
    const train = bundles.flatMap((b, i) => (b === bundle ? [] : [i]));
    const test = bundles.flatMap((b, i) => (b === bundle ? [i] : []));
    const mu = new Float64Array(dim);
    const sg = new Float64Array(dim);
    for (const i of train) for (let d = 0; d < dim; d++) mu[d] += X[i * dim + d] / train.length;
    for (const i of train)
      for (let d = 0; d < dim; d++) sg[d] += (X[i * dim + d] - mu[d]) ** 2 / train.length;
    for (let d = 0; d < dim; d++) sg[d] = Math.sqrt(sg[d]) || 1;
    const positives = train.filter((i) => y[i] === 1).length;
    const weight = [train.length / (2 * (train.length - positives)), train.length / (2 * positives)];
    const m = dim + 1; // features and a bias
    const A = new Float64Array(m * m);
    const r = new Float64Array(m);
    const z = new Float64Array(m);
    for (const i of train) {
      for (let d = 0; d < dim; d++) z[d] = (X[i * dim + d] - mu[d]) / sg[d];
      z[dim] = 1;
      const w = weight[y[i]];
      const t = y[i] ? 1 : -1;
      for (let a = 0; a < m; a++) {
        r[a] += w * t * z[a];
        for (let b = 0; b <= a; b++) A[a * m + b] += w * z[a] * z[b];
      }
    }
    for (let a = 0; a < m; a++) for (let b = 0; b < a; b++) A[b * m + a] = A[a * m + b];
    for (let a = 0; a < dim; a++) A[a * m + a] += ridge * train.length;
    A[dim * m + dim] += 1e-9;
    const w = solve(A, r, m);
    for (const i of test) {
      let s = w[dim];
      for (let d = 0; d < dim; d++) s += (w[d] * (X[i * dim + d] - mu[d])) / sg[d];
      if (y[i]) s > 0 ? c.tp++ : c.fn++;
      else s > 0 ? c.fp++ : c.tn++;
    }
  }
  const ba = (c.tp / (c.tp + c.fn) + c.tn / (c.tn + c.fp)) / 2;
  console.log(
    `  linear probe (class-balanced ridge, λ ${ridge}, leave one bundle out): balanced accuracy ` +
      `${(100 * ba).toFixed(2)} % (TP ${c.tp} FN ${c.fn} TN ${c.tn} FP ${c.fp})`,
  );
}
