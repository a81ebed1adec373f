/**
 * How fast the embedder can feed a fast backbone at the paper's 2000×1000 — what decides the GPU
 * runner's rate once the GPU is quick (a device run measured ~3.5 full-size images/s through the
 * pipeline against ~10 the WebGPU backbone alone could take).
 *
 * The backbone here is nearly free (a mean over the image and one 3→512 MatMul, so the four flips
 * still cost their memory traffic), so what is measured is the pipeline around it: decoding,
 * converting and resizing in the imaging pool, the flips, and the hand-over to the runtime.
 * Reference, same run, same pool: preprocessing alone, every image in flight at once — the rate
 * no feeder can beat on this machine. Ratio 1 would mean the feeder adds nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createImagingPool } from '../lib/imaging/imaging-pool.ts';
import { buildTiff, syntheticXray16 } from '../lib/imaging/tiff-fixtures.ts';
import { validateBackbone } from '../model-runner/src/backbone/load.ts';
import { MemoryEmbeddingStore } from '../model-runner/src/embeddings/cache.ts';
import { Embedder, type EmbedItem } from '../model-runner/src/embeddings/embedder.ts';
import { GraphBuilder } from '../model-runner/src/onnx/graph.ts';
import type { BenchReport } from './report.ts';

const SIZE = { height: 2000, width: 1000 };
const IMAGES = 16;
const WORKERS = Math.max(1, Math.min(4, os.availableParallelism()));

/** N×3×H×W → [N, 512]: the per-channel means times a fixed 3×512 matrix. */
function nearlyFreeBackbone() {
  const g = new GraphBuilder('nearly-free');
  const x = g.input('input', 'float32', ['N', 3, 'H', 'W']);
  const mean = g.op('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  const w = g.float32s(
    Array.from({ length: 3 * 512 }, (_, i) => Math.sin(i)),
    [3, 512],
  );
  g.op('MatMul', [mean, w], {}, { output: 'features' });
  g.output('features', 'float32', ['N', 512]);
  return validateBackbone(g.toBytes(), 'nearly-free backbone');
}

export default async function run(): Promise<BenchReport> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'platina-embed-feed-'));
  const pool = createImagingPool({ size: WORKERS });
  try {
    // Full-size 16-bit electrodes (the paper's mean size), read from files as cross-validation does.
    const items: EmbedItem[] = [];
    for (let i = 0; i < IMAGES; i++) {
      const file = path.join(dir, `e${i}.tif`);
      await writeFile(
        file,
        new Uint8Array(buildTiff({ width: 1145, height: 2072, data: syntheticXray16(1145, 2072, i + 1) })),
      );
      items.push({
        sha256: i.toString(16).padStart(64, '0'),
        source: { path: file },
        conversion: { method: 1 },
      });
    }
    const warm = items.slice(0, WORKERS);
    await Promise.all(warm.map((it) => pool.run('modelInput', { ...it, size: SIZE })));

    let t = performance.now();
    await Promise.all(items.map((it) => pool.run('modelInput', { ...it, size: SIZE })));
    const bound = IMAGES / ((performance.now() - t) / 1000);

    const embedder = await Embedder.create({
      backbone: nearlyFreeBackbone(),
      ep: { name: 'cpu', executionProviders: ['cpu'], reason: 'bench' },
      inputSize: SIZE,
      store: new MemoryEmbeddingStore(),
      pool,
    });
    await embedder.embed(warm.map((it) => ({ ...it, sha256: 'f'.repeat(63) + it.sha256.at(-1) })));
    t = performance.now();
    await embedder.embed(items);
    const pipeline = IMAGES / ((performance.now() - t) / 1000);
    await embedder.close();
    return {
      name: 'embed-feed',
      rows: [
        {
          metric: 'images/s through the embedder at 2000x1000, nearly free backbone (4 flips each)',
          value: pipeline,
          unit: 'img/s',
          reference: {
            metric: `preprocessing alone, all ${IMAGES} in flight (same pool)`,
            value: bound,
            unit: 'img/s',
          },
          ratio: pipeline / bound,
          note: `${IMAGES} synthetic 1145x2072 16-bit TIFFs from files, method 1; imaging pool of ${WORKERS}`,
        },
      ],
      context: { workers: WORKERS, cpus: os.availableParallelism(), loadAverage: os.loadavg()[0] },
    };
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
}
