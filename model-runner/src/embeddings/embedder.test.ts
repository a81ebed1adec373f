import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildTiff, syntheticXray16 } from '../../../lib/imaging/tiff-fixtures.ts';
import { createImagingPool } from '../../../lib/imaging/imaging-pool.ts';
import { stretchBounds } from '../../../lib/imaging/conversions.ts';
import { tinyBackbone } from '../backbone/fixtures.ts';
import { validateBackbone } from '../backbone/load.ts';
import { Embedder, type EmbedItem } from './embedder.ts';
import { hostFlip, plainFeatures } from './flip-fixtures.ts';
import {
  FileEmbeddingStore,
  FLIPS,
  MemoryEmbeddingStore,
  type EmbeddingKey,
  type EmbeddingStore,
} from './cache.ts';

const W = 48;
const H = 64;
const backbone = validateBackbone(tinyBackbone().bytes, 'tiny');
const cpu = { name: 'cpu' as const, executionProviders: ['cpu'], reason: 'test' };

function tiffItem(seed: number, mirror = false): EmbedItem {
  const pixels = syntheticXray16(W, H, seed);
  if (mirror) for (let y = 0; y < H; y++) pixels.subarray(y * W, (y + 1) * W).reverse();
  const bytes = new Uint8Array(buildTiff({ width: W, height: H, data: pixels }));
  return {
    sha256: (mirror ? 'b' : 'a').repeat(63) + String(seed % 10),
    source: { bytes },
    conversion: { method: 1 },
  };
}

class CountingStore implements EmbeddingStore {
  puts = 0;
  constructor(private readonly inner: EmbeddingStore) {}
  get(key: EmbeddingKey) {
    return this.inner.get(key);
  }
  put(key: EmbeddingKey, v: Float32Array[]) {
    this.puts++;
    return this.inner.put(key, v);
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

let embedder: Embedder;
let store: CountingStore;
before(async () => {
  store = new CountingStore(new MemoryEmbeddingStore());
  embedder = await Embedder.create({
    backbone,
    ep: cpu,
    inputSize: { height: H, width: W },
    store,
    thread: 'main',
  });
});
after(() => embedder.close());

describe('Embedder', () => {
  test('gives four 512-d vectors per image: the backbone on the input, flipped h, v and hv', async () => {
    const item = tiffItem(1);
    const [vectors] = await embedder.embed([item]);
    assert.equal(vectors.length, 4);
    const { modelInput } = await import('../../../lib/imaging/tasks.ts');
    const x = (
      await modelInput({ source: item.source, conversion: item.conversion, size: { height: H, width: W } })
    ).data;
    // The reference: the plain backbone on the input flipped on the host.
    const all = await plainFeatures(
      backbone.bytes,
      FLIPS.map((f) => hostFlip(x, 3, H, W, f)),
      H,
      W,
    );
    const direct = FLIPS.map((_, f) => all.subarray(f * 512, (f + 1) * 512));
    for (let f = 0; f < 4; f++) {
      assert.equal(vectors[f].length, 512);
      assert.ok(maxDiff(vectors[f], direct[f]) < 1e-5, `flip ${f}`);
    }
    assert.ok(maxDiff(vectors[0], vectors[1]) > 1e-4, 'the h flip changes the features');
  });

  test('the h variant equals embedding the mirrored image (flipping the input = flipping the image)', async () => {
    const [original, mirrored] = await embedder.embed([tiffItem(2), tiffItem(2, true)]);
    assert.ok(maxDiff(original[1], mirrored[0]) < 1e-5);
    assert.ok(maxDiff(original[3], mirrored[2]) < 1e-5);
  });

  test('a second request is served from the cache without running the backbone', async () => {
    const items = [tiffItem(3), tiffItem(4)];
    const first = await embedder.embed(items);
    const putsBefore = store.puts;
    const progress: { done: number; cached: number }[] = [];
    const second = await embedder.embed(items, (p) => progress.push(p));
    assert.equal(store.puts, putsBefore);
    assert.deepEqual(progress.at(-1), { done: 2, total: 2, cached: 2 });
    assert.deepEqual(second, first);
  });

  test('several images per batch give the same vectors as one at a time', async () => {
    const items = [tiffItem(5), tiffItem(6), tiffItem(7)];
    const batched = await Embedder.create({
      backbone,
      ep: cpu,
      inputSize: { height: H, width: W },
      store: new MemoryEmbeddingStore(),
      imagesPerBatch: 2,
      thread: 'main',
    });
    const a = await batched.embed(items);
    await batched.close();
    const b = await embedder.embed(items);
    for (let i = 0; i < 3; i++) for (let f = 0; f < 4; f++) assert.ok(maxDiff(a[i][f], b[i][f]) < 1e-4);
  });

  test('preprocessing in the imaging worker pool gives the same vectors', async () => {
    const pool = createImagingPool({ size: 1 });
    try {
      const pooled = await Embedder.create({
        backbone,
        ep: cpu,
        inputSize: { height: H, width: W },
        store: new MemoryEmbeddingStore(),
        pool,
        thread: 'main',
      });
      const [a] = await pooled.embed([tiffItem(8)]);
      await pooled.close();
      const [b] = await embedder.embed([tiffItem(8)]);
      for (let f = 0; f < 4; f++) assert.ok(maxDiff(a[f], b[f]) < 1e-6);
    } finally {
      await pool.close();
    }
  });
});

/** Longest gap between event-loop ticks (2 ms timer) while `fn` runs. */
async function maxEventLoopGap(fn: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 2);
  await new Promise((r) => setTimeout(r, 10));
  last = performance.now();
  await fn();
  const now = performance.now();
  gap = Math.max(gap, now - last);
  clearInterval(timer);
  return gap;
}

describe('Embedder threading', () => {
  test('in a worker thread the backbone gives the same vectors and leaves the event loop free', async (t) => {
    // A backbone whose runs take a while (~10 GMAC for the 4 flips of a 128×128 input), so blocking
    // shows clearly above the scheduling noise of a busy 2-core machine.
    const heavy = validateBackbone(tinyBackbone({ heavy: true }).bytes, 'heavy');
    const size = { height: 128, width: 128 };
    const input = () => [Float32Array.from({ length: 3 * 128 * 128 }, (_, i) => Math.sin(i * 0.01))];
    const main = await Embedder.create({
      backbone: heavy,
      ep: cpu,
      inputSize: size,
      store: new MemoryEmbeddingStore(),
      thread: 'main',
    });
    const worker = await Embedder.create({
      backbone: heavy,
      ep: cpu,
      inputSize: size,
      store: new MemoryEmbeddingStore(),
    });
    try {
      await main.embedInputs(input()); // warm-up both
      await worker.embedInputs(input()); // (a worker session takes the input's buffer: a fresh one each run)
      let a: Float32Array[][] = [];
      let b: Float32Array[][] = [];
      const t0 = performance.now();
      const mainGap = await maxEventLoopGap(async () => (a = await main.embedInputs(input())));
      const mainRun = performance.now() - t0;
      const workerGap = await maxEventLoopGap(async () => (b = await worker.embedInputs(input())));
      t.diagnostic(
        `event-loop gap: main ${mainGap.toFixed(0)} ms (run ${mainRun.toFixed(0)} ms), worker ${workerGap.toFixed(0)} ms`,
      );
      for (let f = 0; f < 4; f++) assert.ok(maxDiff(a[0][f], b[0][f]) < 1e-5);
      // On the main thread the whole run is one blocked stretch of the event loop…
      assert.ok(
        mainGap > 0.5 * (mainRun - 10),
        `main gap ${mainGap.toFixed(0)} ms of a ${mainRun.toFixed(0)} ms run`,
      );
      // …in the worker the loop keeps ticking.
      assert.ok(
        workerGap < mainGap / 2,
        `worker gap ${workerGap.toFixed(0)} ms vs main ${mainGap.toFixed(0)} ms`,
      );
    } finally {
      await main.close();
      await worker.close();
    }
  });
});

describe('FileEmbeddingStore', () => {
  test('round-trips the four vectors and keys method 2 by its global bounds', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'platina-emb-'));
    try {
      const files = new FileEmbeddingStore(dir, 4);
      const key: EmbeddingKey = {
        sha256: 'ab'.repeat(32),
        backboneHash: 'cd'.repeat(32),
        inputSize: '2000x1000',
        method: 2,
        globalBounds: stretchBounds(1700, 28000),
      };
      const vectors = [0, 1, 2, 3].map((f) => Float32Array.from([f, f + 0.5, -f, 1e-3]));
      assert.equal(await files.get(key), undefined);
      await files.put(key, vectors);
      assert.deepEqual(await files.get(key), vectors);
      assert.equal(await files.get({ ...key, globalBounds: stretchBounds(1700, 2800) }), undefined);
      assert.equal(await files.get({ ...key, inputSize: '448x224' }), undefined);
      await assert.rejects(files.get({ ...key, globalBounds: undefined }), /keyed by the global bounds/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
