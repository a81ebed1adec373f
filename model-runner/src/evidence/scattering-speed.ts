/**
 * Speed of the scattering graph on one CPU core (onnxruntime CPU, intraOpNumThreads 1), at the working size of a
 * 1150×2070 image downsampled 4× (288×518), plus the pooling in JS. Prints one JSON line.
 * Usage: `npx tsx model-runner/src/evidence/scattering-speed.ts [height width runs]`.
 */
import ort from 'onnxruntime-node';
import {
  buildScatteringModel,
  poolScattering,
  scatteringEnergyMap,
  SCATTERING_DEFAULTS,
} from './scattering.ts';

const [height, width, runs] = [
  Number(process.argv[2] ?? 288),
  Number(process.argv[3] ?? 518),
  Number(process.argv[4] ?? 20),
];
const config = SCATTERING_DEFAULTS;
const bytes = buildScatteringModel(config);
const session = await ort.InferenceSession.create(bytes, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
});
const image = new Float32Array(height * width);
let seed = 1;
for (let i = 0; i < image.length; i++) {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  image[i] = seed / 2 ** 32 - 0.5;
}
const graphMs: number[] = [];
const poolMs: number[] = [];
let features = 0;
for (let r = 0; r < runs + 2; r++) {
  const t0 = performance.now();
  const out = await session.run({ image: new ort.Tensor('float32', image, [1, 1, height, width]) });
  const t1 = performance.now();
  const [, , h, w] = out.s1.dims;
  const maps = {
    s0: out.s0.data as Float32Array,
    s1: out.s1.data as Float32Array,
    s2: out.s2.data as Float32Array,
    h,
    w,
  };
  const pooled = poolScattering(maps, config);
  scatteringEnergyMap(maps, config);
  const t2 = performance.now();
  features = pooled.values.length;
  if (r >= 2) {
    graphMs.push(t1 - t0);
    poolMs.push(t2 - t1);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(
  JSON.stringify({
    height,
    width,
    config,
    threads: 1,
    modelBytes: bytes.length,
    features,
    graphMsMedian: Number(median(graphMs).toFixed(1)),
    graphMsMin: Number(Math.min(...graphMs).toFixed(1)),
    poolMsMedian: Number(median(poolMs).toFixed(1)),
    runs,
  }),
);
