/**
 * Head training on the CPU (issue 6, "Benchmark"):
 *  (a) the rate of one large float32 MatMul in onnxruntime-node on this machine — the compute limit;
 *  (b) training the head for one leave-one-bundle-out fold of the paper's dataset size (714 images in 12
 *      bundles, so ~655 training images), 50 epochs, batch 16, beside the time that fold's FLOP count would
 *      take at rate (a) (forward + backward per sample × samples × epochs);
 *  (c) a full 12-fold cross-validation with cached embeddings (what `npm run cv` spends per method after the
 *      embeddings exist);
 *  (d) one training step at batch 1 and at batch 16: the fixed per-step cost (memory passes over the parameters and
 *      momentum state, runtime overhead) that separates (b) from its FLOP limit.
 * Embeddings are synthetic (the head's cost does not depend on their values). Both (b) and (c) use the same
 * training code path as `npm run cv`.
 *
 * The development machine has 2 cores shared by a whole team, so wall times swing with its load. Each figure is
 * therefore also given in CPU seconds of this process (process.cpuUsage), and (a) and (b) run single-threaded so the
 * ratio compares like with like: CPU seconds of a fold against its FLOP count at the single-core MatMul rate.
 */
import ort from 'onnxruntime-node';
import os, { availableParallelism } from 'node:os';
import { GraphBuilder } from '../model-runner/src/onnx/graph.ts';
import { trainAndCrossValidate } from '../model-runner/src/cv/cross-validate.ts';
import { toyEmbeddings } from '../model-runner/src/head/fixtures.ts';
import { trainingFlopsPerSample } from '../model-runner/src/head/params.ts';
import { trainHead, TRAINING_DEFAULTS } from '../model-runner/src/head/train.ts';
import { median, type BenchReport } from './report.ts';

const IMAGES = 714;
const BUNDLES = 12;

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

/**
 * GFLOP/s of an n×n×n float32 MatMul in a single-threaded onnxruntime session, per wall second and per CPU second
 * (median of several runs, after a warm-up).
 */
async function matmulRate(n: number, rounds = 7): Promise<{ wall: number; cpu: number }> {
  const g = new GraphBuilder('matmul');
  const a = g.input('a', 'float32', [n, n]);
  const b = g.input('b', 'float32', [n, n]);
  g.op('MatMul', [a, b], {}, { output: 'c' });
  g.output('c', 'float32', [n, n]);
  const session = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: 1 });
  const feeds = {
    a: new ort.Tensor(
      'float32',
      Float32Array.from({ length: n * n }, (_, i) => (i % 7) * 0.1),
      [n, n],
    ),
    b: new ort.Tensor(
      'float32',
      Float32Array.from({ length: n * n }, (_, i) => (i % 5) * 0.1),
      [n, n],
    ),
  };
  const out = { c: new ort.Tensor('float32', new Float32Array(n * n), [n, n]) };
  await session.run(feeds, out);
  const seconds: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await session.run(feeds, out);
    cpu.push(cpuSeconds(c));
    seconds.push((performance.now() - t) / 1000);
  }
  await session.release();
  const flop = 2 * n ** 3;
  return { wall: flop / median(seconds) / 1e9, cpu: flop / median(cpu) / 1e9 };
}

/**
 * CPU milliseconds of one training step of the paper's head at a batch size, single-threaded: the difference between
 * 2 epochs and 1 epoch of `steps` steps, so session creation, initialisation and standardisation cancel out. At
 * batch 1 this is what every step pays whatever its batch — reading and writing the ~1.2 M weights and their momentum
 * state (several passes of ~4.6 MB each: forward, backward, the momentum Gemm, the update) and the runtime's per-run
 * overhead — which a FLOP count does not see.
 */
async function stepMilliseconds(batchSize: number, steps = 128): Promise<number> {
  const { table, labels } = toyEmbeddings(batchSize * steps, 2);
  const all = Array.from({ length: table.images }, (_, i) => i);
  const cpu = async (epochs: number) => {
    const c = process.cpuUsage();
    await trainHead(table, labels, all, { seed: 1, threads: 1, epochs, batchSize });
    return cpuSeconds(c);
  };
  await cpu(1); // warm-up: the session for this shape
  return ((await cpu(2)) - (await cpu(1))) * (1000 / steps);
}

export default async function run(): Promise<BenchReport> {
  const rate = await matmulRate(1024);
  const { table, labels } = toyEmbeddings(IMAGES, 1);
  const bundles = Array.from(
    { length: IMAGES },
    (_, i) => `bundle-${String((i % BUNDLES) + 1).padStart(2, '0')}`,
  );
  const train = bundles.flatMap((b, i) => (b === 'bundle-01' ? [] : [i]));
  const { epochs, batchSize } = TRAINING_DEFAULTS;
  const foldFlops = trainingFlopsPerSample() * train.length * epochs;

  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const fold = await trainHead(table, labels, train, { seed: 1, threads: 1 });
  const foldCpu = cpuSeconds(c0);
  const foldWall = (performance.now() - t0) / 1000;
  const limitCpu = foldFlops / (rate.cpu * 1e9);
  const limitWall = foldFlops / (rate.wall * 1e9);

  const workers = availableParallelism();
  const c1 = process.cpuUsage();
  const cv = await trainAndCrossValidate({
    embeddings: table,
    labels,
    bundles,
    method: 2,
    seed: 1,
    trainFinal: false,
    workers,
  });
  const cvCpu = cpuSeconds(c1);
  const step1 = await stepMilliseconds(1);
  const stepBatch = await stepMilliseconds(batchSize);
  const rateAfter = await matmulRate(1024);
  // Per-step cost model of a fold: every step's fixed cost (measured at batch 1) plus the fold's FLOPs at the MatMul rate.
  const modelCpu = (fold.steps * step1) / 1000 + limitCpu;

  return {
    name: 'head',
    context: {
      images: IMAGES,
      bundles: BUNDLES,
      trainingImagesPerFold: train.length,
      epochs,
      batchSize,
      stepsPerFold: fold.steps,
      flopsPerSample: trainingFlopsPerSample(),
      foldGflop: foldFlops / 1e9,
      matmulGflopsBefore: rate,
      matmulGflopsAfter: rateAfter,
      foldWallSeconds: foldWall,
      stepCpuMilliseconds: { batch1: step1, [`batch${batchSize}`]: stepBatch },
      cvWorkers: workers,
      cvCpuSeconds: cvCpu,
      loadAverage: os.loadavg(),
    },
    rows: [
      {
        metric: 'MatMul 1024³ float32, 1 thread (onnxruntime)',
        value: rate.cpu,
        unit: 'GFLOP/CPU-s',
        note: `${rate.wall.toFixed(1)} GFLOP/s wall`,
      },
      {
        metric: 'head training, one fold (655 images × 50 epochs, batch 16, 1 thread)',
        value: foldCpu,
        unit: 'CPU-s',
        reference: {
          metric: 'fold FLOP / single-core MatMul rate (the limit)',
          value: limitCpu,
          unit: 'CPU-s',
        },
        ratio: foldCpu / limitCpu,
        note: `lower is better; ${(foldFlops / 1e9).toFixed(0)} GFLOP in ${fold.steps} steps; wall ${foldWall.toFixed(1)} s vs ${limitWall.toFixed(1)} s at the wall MatMul rate; ${fold.steps} steps × the batch-1 step + the FLOP limit = ${modelCpu.toFixed(1)} CPU-s`,
      },
      {
        metric:
          'one training step at batch 1 (what every step pays: weight and momentum passes, runtime overhead)',
        value: step1,
        unit: 'CPU-ms',
        note: `${((100 * (fold.steps * step1)) / 1000 / foldCpu).toFixed(0)} % of the fold's CPU time over its ${fold.steps} steps`,
      },
      {
        metric: `one training step at batch ${batchSize}`,
        value: stepBatch,
        unit: 'CPU-ms',
        reference: {
          metric: `the batch-1 step + ${batchSize - 1} more samples' FLOPs at the MatMul rate`,
          value: step1 + (((batchSize - 1) * trainingFlopsPerSample()) / (rate.cpu * 1e9)) * 1000,
          unit: 'CPU-ms',
        },
        ratio: stepBatch / (step1 + (((batchSize - 1) * trainingFlopsPerSample()) / (rate.cpu * 1e9)) * 1000),
      },
      {
        metric: `12-fold cross-validation, cached embeddings (${workers} fold workers)`,
        value: cv.seconds,
        unit: 's',
        reference: {
          metric: '12 × the one-fold wall time / workers',
          value: (12 * foldWall) / workers,
          unit: 's',
        },
        ratio: cv.seconds / ((12 * foldWall) / workers),
        note: `${cvCpu.toFixed(0)} CPU-s in all; includes scoring each held-out bundle`,
      },
    ],
  };
}
