/**
 * Head training on the CPU (issue 6, "Benchmark"):
 *  (a) the rate of one large float32 MatMul in onnxruntime-node on this machine — the compute limit;
 *  (b) training the head for one leave-one-bundle-out fold of the paper's dataset size (714 images in 12
 *      bundles, so ~655 training images), 50 epochs, batch 16, beside the time that fold's FLOP count would
 *      take at rate (a) (forward + backward per sample × samples × epochs);
 *  (c) a full 12-fold cross-validation with cached embeddings (what `npm run cv` spends per method after the
 *      embeddings exist).
 * Embeddings are synthetic (the head's cost does not depend on their values). Both (b) and (c) use the same
 * training code path as `npm run cv`.
 */
import ort from 'onnxruntime-node';
import os from 'node:os';
import { GraphBuilder } from '../model-runner/src/onnx/graph.ts';
import { trainAndCrossValidate } from '../model-runner/src/cv/cross-validate.ts';
import { toyEmbeddings } from '../model-runner/src/head/fixtures.ts';
import { trainingFlopsPerSample } from '../model-runner/src/head/params.ts';
import { trainHead, TRAINING_DEFAULTS } from '../model-runner/src/head/train.ts';
import { median, type BenchReport } from './report.ts';

const IMAGES = 714;
const BUNDLES = 12;

/** GFLOP/s of an n×n×n float32 MatMul in onnxruntime (median of several runs, after a warm-up). */
async function matmulRate(n: number, rounds = 7): Promise<number> {
  const g = new GraphBuilder('matmul');
  const a = g.input('a', 'float32', [n, n]);
  const b = g.input('b', 'float32', [n, n]);
  g.op('MatMul', [a, b], {}, { output: 'c' });
  g.output('c', 'float32', [n, n]);
  const session = await ort.InferenceSession.create(g.toBytes());
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
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    await session.run(feeds, out);
    seconds.push((performance.now() - t) / 1000);
  }
  await session.release();
  return (2 * n ** 3) / median(seconds) / 1e9;
}

export default async function run(): Promise<BenchReport> {
  const gflops = await matmulRate(1024);
  const { table, labels } = toyEmbeddings(IMAGES, 1);
  const bundles = Array.from(
    { length: IMAGES },
    (_, i) => `bundle-${String((i % BUNDLES) + 1).padStart(2, '0')}`,
  );
  const train = bundles.flatMap((b, i) => (b === 'bundle-01' ? [] : [i]));
  const { epochs, batchSize } = TRAINING_DEFAULTS;
  const foldFlops = trainingFlopsPerSample() * train.length * epochs;

  const t0 = performance.now();
  const fold = await trainHead(table, labels, train, { seed: 1 });
  const foldSeconds = (performance.now() - t0) / 1000;
  const limitSeconds = foldFlops / (gflops * 1e9);

  const cv = await trainAndCrossValidate({
    embeddings: table,
    labels,
    bundles,
    method: 2,
    seed: 1,
    trainFinal: false,
  });
  const gflopsAfter = await matmulRate(1024);

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
      matmulGflopsBefore: gflops,
      matmulGflopsAfter: gflopsAfter,
      loadAverage: os.loadavg(),
    },
    rows: [
      { metric: 'MatMul 1024³ float32 (onnxruntime, CPU)', value: gflops, unit: 'GFLOP/s' },
      {
        metric: 'head training, one fold (655 images × 50 epochs, batch 16)',
        value: foldSeconds,
        unit: 's',
        reference: { metric: 'fold FLOP / measured MatMul rate (the limit)', value: limitSeconds, unit: 's' },
        ratio: foldSeconds / limitSeconds,
        note: `lower is better; ${(foldFlops / 1e9).toFixed(0)} GFLOP, ${((foldSeconds * 1000) / fold.steps).toFixed(2)} ms per step`,
      },
      {
        metric: '12-fold cross-validation, cached embeddings',
        value: cv.seconds,
        unit: 's',
        reference: { metric: '12 × the one-fold time', value: 12 * foldSeconds, unit: 's' },
        ratio: cv.seconds / (12 * foldSeconds),
        note: 'includes scoring each held-out bundle',
      },
    ],
  };
}
