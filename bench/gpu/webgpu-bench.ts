/**
 * Backbone embeddings per second with onnxruntime-node on one execution provider, over a matrix of
 * settings (precision, layout, batch, output location, graph capture), for the GPU check of
 * issue 6. Runs on the device machine from `gpu/embed-bench.sh` (bundled to plain JS by
 * `gpu/pack.sh`), and locally on CPU at a small size to check the script itself:
 *
 *   npx tsx gpu/embed-bench.ts --ep cpu --size 128x64 --out /tmp/embed-bench.json --budget 60
 *
 * Each setting: build the model variant, open a session, one warm-up run (shader compilation,
 * reported separately), then timed runs (≥ 3 and ≥ 2 s, ≤ 12 runs). Results are written to the
 * JSON file after every setting, so a run cut short keeps what it finished. The untrained backbone
 * is used: weights do not change the speed.
 */
import { writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import {
  buildResNet34Model,
  calibrateBatchNorm,
  calibrationBatch,
  initResNet34Weights,
  resnet34Macs,
  type Weights,
} from '../model-runner/src/backbone/resnet34.ts';

interface Setting {
  id: string;
  precision: 'float32' | 'float16';
  fold: boolean;
  batch: number;
  layout?: 'NCHW' | 'NHWC';
  gpuOutput?: boolean;
  graphCapture?: boolean;
  validation?: 'disabled' | 'basic';
}

interface Result extends Setting {
  ok: boolean;
  error?: string;
  createS?: number;
  warmupS?: number;
  runs?: number;
  secondsPerRun?: number;
  imagesPerSecond?: number;
  tflops?: number;
  /** Max |features − CPU fp32 features| at the check size, where measured. */
  maxAbsDiffVsCpu?: number;
  featureRms?: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

const ep = arg('ep', 'webgpu');
const [height, width] = arg('size', '2000x1000').split('x').map(Number);
const outFile = arg('out', '/tmp/embed-bench.json');
const budgetS = Number(arg('budget', '240'));
const only = arg('only', '');
const started = Date.now();
const elapsed = () => (Date.now() - started) / 1000;

const allSettings: Setting[] = [
  // In order of importance (a run that hits its budget skips the tail). Baseline first: the
  // backbone file as the runner ships it (BN nodes, fp32, NCHW), one image per run.
  { id: 'fp32-b1', precision: 'float32', fold: false, batch: 1 },
  { id: 'fp32-nhwc-b1', precision: 'float32', fold: true, batch: 1, layout: 'NHWC' },
  { id: 'fp16-nhwc-b1', precision: 'float16', fold: true, batch: 1, layout: 'NHWC' },
  { id: 'fp32-b4', precision: 'float32', fold: false, batch: 4 },
  { id: 'fp16-nhwc-b4', precision: 'float16', fold: true, batch: 4, layout: 'NHWC' },
  { id: 'fp32-nhwc-b4', precision: 'float32', fold: true, batch: 4, layout: 'NHWC' },
  { id: 'fp16-b4', precision: 'float16', fold: true, batch: 4 },
  { id: 'fp16-nhwc-b8', precision: 'float16', fold: true, batch: 8, layout: 'NHWC' },
  {
    id: 'fp16-nhwc-b4-gpuout-novalid',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    gpuOutput: true,
    validation: 'disabled',
  },
  { id: 'fp32-fold-b4', precision: 'float32', fold: true, batch: 4 },
  {
    id: 'fp16-nhwc-b4-graphcapture',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    graphCapture: true,
    gpuOutput: true,
  },
  { id: 'fp32-nhwc-b8', precision: 'float32', fold: true, batch: 8, layout: 'NHWC' },
];
const settings = allSettings.filter((s) => !only || only.split(',').includes(s.id));

const report: Record<string, unknown> & { results: Result[] } = {
  ep,
  height,
  width,
  gmacPerImage: resnet34Macs(height, width) / 1e9,
  node: process.version,
  ortVersion: (ort.env as { versions?: { common?: string } }).versions?.common,
  results: [],
};
const save = () => writeFileSync(outFile, JSON.stringify(report, null, 2));

function sessionOptions(s: Setting): InferenceSession.SessionOptions {
  const provider: Record<string, unknown> = { name: ep };
  if (ep === 'webgpu') {
    if (s.layout) provider.preferredLayout = s.layout;
    if (s.validation) provider.validationMode = s.validation;
  }
  const options: InferenceSession.SessionOptions = {
    executionProviders: [provider as unknown as InferenceSession.ExecutionProviderConfig],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  if (s.gpuOutput && ep === 'webgpu')
    options.preferredOutputLocation = { features: 'gpu-buffer', logits: 'gpu-buffer' };
  if (s.graphCapture) {
    options.enableGraphCapture = true;
    options.extra = { ep: { webgpuexecutionprovider: { enableGraphCapture: '1' } } };
  }
  return options;
}

async function features(session: ort.InferenceSession, x: ort.Tensor): Promise<Float32Array> {
  const out = await session.run({ input: x }, ['features']);
  const t = out.features;
  const data =
    t.location === 'gpu-buffer' ? ((await t.getData(true)) as Float32Array) : (t.data as Float32Array);
  // A gpu-buffer tensor must be read before the next run: that read is part of the cost.
  return data;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const weights: Weights = initResNet34Weights(0);
  await calibrateBatchNorm(weights, { seed: 0 });
  report.buildS = (Date.now() - t0) / 1000;
  const models = new Map<string, Uint8Array>();
  const modelFor = (s: Setting) => {
    const key = `${s.precision}-${s.fold}`;
    if (!models.has(key))
      models.set(key, buildResNet34Model(weights, { precision: s.precision, foldBatchNorm: s.fold }));
    return models.get(key)!;
  };
  // Reference features on CPU fp32 at a small size, to check each GPU setting's numerics.
  const [ch, cw] = [448, 224];
  const checkInput = new ort.Tensor('float32', calibrationBatch(11, 1, ch, cw), [1, 3, ch, cw]);
  const cpu = await ort.InferenceSession.create(
    modelFor({ id: '', precision: 'float32', fold: false, batch: 1 }),
    { logSeverityLevel: 3 },
  );
  const reference = await features(cpu, checkInput);
  await cpu.release();
  const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  report.referenceFeatureRms = rms(reference);
  save();

  const inputs = new Map<number, ort.Tensor>();
  const inputFor = (batch: number) => {
    if (!inputs.has(batch)) {
      const one = calibrationBatch(5, 1, height, width);
      const data = new Float32Array(batch * one.length);
      for (let i = 0; i < batch; i++) data.set(one, i * one.length);
      inputs.set(batch, new ort.Tensor('float32', data, [batch, 3, height, width]));
    }
    return inputs.get(batch)!;
  };

  let noAdapter = false; // no GPU adapter: every other setting would fail the same way
  for (const s of settings) {
    if (noAdapter) {
      report.results.push({ ...s, ok: false, error: 'skipped: no WebGPU adapter' });
      continue;
    }
    if (elapsed() > budgetS) {
      report.results.push({ ...s, ok: false, error: `skipped: budget of ${budgetS} s used` });
      continue;
    }
    const r: Result = { ...s, ok: false };
    report.results.push(r);
    let session: ort.InferenceSession | undefined;
    try {
      let t = Date.now();
      session = await ort.InferenceSession.create(modelFor(s), sessionOptions(s));
      r.createS = (Date.now() - t) / 1000;
      if (!s.graphCapture) {
        // Numerics at the check size (graph capture fixes the shapes, so it is checked at full size only).
        const f = await features(session, checkInput);
        r.maxAbsDiffVsCpu = f.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), 0);
      }
      const x = inputFor(s.batch);
      t = Date.now();
      const f0 = await features(session, x);
      r.warmupS = (Date.now() - t) / 1000;
      r.featureRms = rms(f0.subarray(0, 512));
      const times: number[] = [];
      const loopStart = Date.now();
      while (times.length < 12 && (times.length < 3 || Date.now() - loopStart < 2000)) {
        t = performance.now();
        await features(session, x);
        times.push((performance.now() - t) / 1000);
        if (elapsed() > budgetS + 30) break;
      }
      times.sort((a, b) => a - b);
      r.runs = times.length;
      r.secondsPerRun = times[Math.floor(times.length / 2)]; // median
      r.imagesPerSecond = s.batch / r.secondsPerRun;
      r.tflops = (2 * resnet34Macs(height, width) * r.imagesPerSecond) / 1e12;
      r.ok = true;
    } catch (err) {
      r.error = (err as Error).message.split('\n').slice(0, 3).join(' | ');
      if (/Failed to get a WebGPU adapter/.test(r.error)) noAdapter = true;
    } finally {
      await session?.release().catch(() => {});
    }
    console.log(
      `${s.id.padEnd(30)} ${r.ok ? `${r.imagesPerSecond!.toFixed(2)} img/s  (${r.secondsPerRun!.toFixed(3)} s/run, warm-up ${r.warmupS!.toFixed(1)} s, create ${r.createS!.toFixed(1)} s, diff ${r.maxAbsDiffVsCpu?.toExponential(1) ?? '-'})` : `FAILED ${r.error}`}`,
    );
    save();
  }
  report.totalS = elapsed();
  save();
}

main().catch((err) => {
  report.fatal = String((err as Error).stack ?? err);
  save();
  console.error(err);
  process.exit(1);
});
