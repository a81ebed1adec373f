/**
 * Backbone embeddings per second with onnxruntime-node on one execution provider, over a matrix of
 * settings (precision, layout, batch, buffer cache, output location, validation, graph capture,
 * host vs GPU-resident input, concurrent sessions), with one profiled run. The device check of the
 * GPU-runner issue; run on the device by `bench/gpu/device-run.sh` (bundled to plain JS by
 * `bench/gpu/pack.sh`), and locally on the CPU at a small size to check the script itself:
 *
 *   npx tsx bench/gpu/webgpu-bench.ts --ep cpu --size 128x64 --out /tmp/webgpu.json --budget 60
 *
 * Every setting runs in its own child process with a time limit: an earlier device run lost every
 * setting after one that killed the process (gpu-buffer outputs with validation disabled), so a crash
 * now costs one row, reported with its exit signal and last stderr lines, and the options behind it
 * are tried one at a time on a tiny model as well.
 *
 * Each setting: open a session on the prepared model file, check the features against CPU fp32 at
 * 448×224, one warm-up run (shader compilation, reported separately), then timed runs (≥ 3 and
 * ≥ 2 s, ≤ 12 runs; the median is reported). Results are written after every setting, so a run
 * cut short keeps what it finished. The untrained backbone is used: weights do not change speed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import {
  buildResNet34Model,
  calibrateBatchNorm,
  calibrationBatch,
  initResNet34Weights,
  resnet34Macs,
} from '../../model-runner/src/backbone/resnet34.ts';
import { GraphBuilder } from '../../model-runner/src/onnx/graph.ts';
import { buildScatteringModel } from '../../model-runner/src/evidence/scattering.ts';
import { withFlipVariants } from '../../model-runner/src/embeddings/flip-graph.ts';

/** The scattering block's input: the working image of a full-size electrode (height × width). */
const SCATTERING_INPUT = [518, 288] as const;

/** 'scattering': the evidence block's scattering graph (model-runner/src/evidence) on a 288×518 working image. */
type ModelKind = 'resnet34' | 'upload' | 'tiny' | 'scattering';

interface Setting {
  id: string;
  /** What the row tests, in words (the README's table is written from these). */
  why: string;
  model?: ModelKind;
  precision?: 'float32' | 'float16';
  fold?: boolean;
  batch: number;
  layout?: 'NCHW' | 'NHWC';
  gpuOutput?: boolean;
  graphCapture?: boolean;
  validation?: 'disabled' | 'wgpuOnly' | 'basic';
  storageCache?: 'disabled' | 'lazyRelease' | 'simple' | 'bucket';
  /** Session config entries (`ep.webgpuexecutionprovider.*`). */
  extra?: Record<string, string>;
  /**
   * 'tiled': the network gets an eighth of the image and tiles it to full size inside the graph, so the
   * host→GPU copy is 1/8 while the convolutions are the same: what GPU-resident inputs would save
   * (onnxruntime-node exposes no IO binding and no way to hand it a GPU buffer as an input).
   * 'flips': the runner's embedder as it now runs: one image uploaded, its four flips made inside the
   * graph (model-runner/src/embeddings/flip-graph.ts); `batch` counts the passes (4 per image).
   */
  input?: 'host' | 'tiled' | 'flips';
  /** Sessions in separate processes at once (aggregate rate). */
  concurrent?: number;
  profile?: boolean;
}

interface Result extends Setting {
  ok: boolean;
  error?: string;
  exit?: { code: number | null; signal: string | null; stderrTail: string };
  createS?: number;
  warmupS?: number;
  runs?: number;
  secondsPerRun?: number;
  imagesPerSecond?: number;
  tflops?: number;
  maxAbsDiffVsCpu?: number;
  featureRms?: number;
  perProcess?: number[];
  profileSummary?: ProfileSummary;
}

interface ProfileSummary {
  file: string;
  events: number;
  categories: Record<string, number>;
  /** Total µs per op type (node events), largest first. */
  byOpType: { op: string; provider: string; us: number; count: number }[];
  /** Total µs per kernel / shader (GPU timestamp events, when the provider reports them), largest first. */
  byKernel: { name: string; us: number; count: number }[];
  /** GPU µs per op type and shader over all profiled runs (from kernel names `node&Op&Shader`), largest first. */
  gpuByOpType: { op: string; us: number; count: number }[];
  /** All GPU timestamp µs over all profiled runs. */
  gpuUs: number;
  runUs: number[];
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

const ep = arg('ep', 'webgpu');
const [height, width] = arg('size', '2000x1000').split('x').map(Number);
const outFile = arg('out', '/tmp/webgpu-bench.json');
const budgetS = Number(arg('budget', '240'));
const work = arg('work', '/tmp/webgpu-bench');
const only = arg('only', '');
const child = arg('child', '');
const started = Date.now();
const elapsed = () => (Date.now() - started) / 1000;
const CHECK = { h: 448, w: 224 };

const r34 = (s: Omit<Setting, 'model'>): Setting => ({
  model: 'resnet34' as const,
  precision: 'float32' as const,
  ...s,
});
const SETTINGS: Setting[] = [
  // In order of importance: a run that hits its budget skips the tail.
  r34({
    id: 'fp32-b1',
    why: 'the backbone as the runner ships it (BN nodes, NCHW), one image a run',
    batch: 1,
  }),
  r34({
    id: 'fp32-b4',
    why: "the runner's graph, one image's 4 flips made on the host and uploaded (the embedder until run 5)",
    batch: 4,
  }),
  r34({
    id: 'fp32-flips-b4',
    why: "the runner's graph, one image uploaded and flipped 4 ways inside the graph (the embedder from run 5)",
    batch: 4,
    input: 'flips',
  }),
  r34({
    id: 'fp16-nhwc-flips-b4',
    why: 'the best family with the flips inside the graph (a quarter of the upload)',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    input: 'flips',
  }),
  r34({
    id: 'fp16-nhwc-b4',
    why: "run 2's best family",
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
  }),
  r34({ id: 'fp16-nhwc-b16', why: 'batch 16', precision: 'float16', fold: true, batch: 16, layout: 'NHWC' }),
  r34({ id: 'fp32-fold-b16', why: 'fp32, batch 16', fold: true, batch: 16 }),
  r34({
    id: 'fp16-nhwc-b4-tiled',
    why: '1/8 of the host→GPU copy, same convolutions (what GPU-resident inputs would save)',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    input: 'tiled',
  }),
  {
    id: 'upload-b4',
    why: 'host→GPU copy of 4 full-size inputs and one reduction, no convolutions',
    model: 'upload',
    batch: 4,
  },
  r34({
    id: 'fp16-nhwc-b4-profile',
    why: 'profiled (per-op and per-kernel times)',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    profile: true,
  }),
  {
    id: 'scattering-b1',
    why: 'the evidence block: scattering graph on one 288×518 working image',
    model: 'scattering',
    batch: 1,
  },
  { id: 'scattering-b8', why: 'scattering graph, 8 working images a run', model: 'scattering', batch: 8 },
  // The options behind run 2's crash, one at a time, on a model small enough to rule out the backbone.
  { id: 'tiny-gpuout', why: 'crash isolation: gpu-buffer outputs', model: 'tiny', batch: 1, gpuOutput: true },
  {
    id: 'tiny-novalid',
    why: 'crash isolation: validation disabled',
    model: 'tiny',
    batch: 1,
    validation: 'disabled',
  },
  {
    id: 'tiny-gpuout-novalid',
    why: "crash isolation: both (run 2's crashing pair)",
    model: 'tiny',
    batch: 1,
    gpuOutput: true,
    validation: 'disabled',
  },
  {
    id: 'tiny-graphcapture',
    why: 'crash isolation: graph capture',
    model: 'tiny',
    batch: 1,
    graphCapture: true,
    gpuOutput: true,
  },
  r34({
    id: 'fp16-nhwc-b4-gpuout',
    why: 'gpu-buffer outputs alone',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    gpuOutput: true,
  }),
  r34({
    id: 'fp16-nhwc-b4-novalid',
    why: "validationMode 'disabled' alone",
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    validation: 'disabled',
  }),
  r34({
    id: 'fp16-nhwc-b4-graphcapture',
    why: 'graph capture (needs gpu-buffer outputs)',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    graphCapture: true,
    gpuOutput: true,
  }),
  r34({
    id: 'fp16-nhwc-b4-x2',
    why: 'two sessions in two processes at once (does one session leave the GPU idle?)',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    concurrent: 2,
  }),
  r34({
    id: 'fp16-nhwc-b4-x4',
    why: 'four sessions at once',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    concurrent: 4,
  }),
  r34({
    id: 'fp16-nhwc-b4-simplecache',
    why: "storageBufferCacheMode 'simple' (exact-size reuse for static shapes)",
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    storageCache: 'simple',
  }),
  r34({
    id: 'fp16-nhwc-b4-pending64',
    why: 'maxNumPendingDispatches 64, powerPreference high-performance',
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    extra: {
      'ep.webgpuexecutionprovider.maxNumPendingDispatches': '64',
      'ep.webgpuexecutionprovider.powerPreference': 'high-performance',
    },
  }),
  r34({
    id: 'fp16-nhwc-b4-wgpuonly',
    why: "validationMode 'wgpuOnly'",
    precision: 'float16',
    fold: true,
    batch: 4,
    layout: 'NHWC',
    validation: 'wgpuOnly',
  }),
  r34({ id: 'fp32-nhwc-b4', why: 'fp32 NHWC', fold: true, batch: 4, layout: 'NHWC' }),
];

// ---------------------------------------------------------------------------------------------
// Models, written once by the parent and read by each child.

const modelFile = (s: Setting) =>
  path.join(
    work,
    `${s.model ?? 'resnet34'}-${s.precision ?? 'float32'}-${s.fold ? 'fold' : 'bn'}-${s.input ?? 'host'}.onnx`,
  );

/** A 3-conv network on 64×64: enough to exercise a provider option without the backbone's size. */
function tinyModel(): Uint8Array {
  const g = new GraphBuilder('tiny');
  const x = g.input('input', 'float32', ['N', 3, 'H', 'W']);
  const wts = (name: string, dims: number[]) =>
    g.initializer(
      name,
      'float32',
      dims,
      Float32Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => Math.sin(i) * 0.1),
    );
  let y = g.op('Relu', [g.op('Conv', [x, wts('c1', [8, 3, 3, 3])], { pads: [1, 1, 1, 1] })]);
  y = g.op('Relu', [g.op('Conv', [y, wts('c2', [8, 8, 3, 3])], { pads: [1, 1, 1, 1], strides: [2, 2] })]);
  y = g.op('Conv', [y, wts('c3', [16, 8, 3, 3])], { pads: [1, 1, 1, 1] });
  g.op('Flatten', [g.op('GlobalAveragePool', [y])], { axis: 1 }, { output: 'features' });
  g.output('features', 'float32', ['N', 16]);
  return g.toBytes();
}

/** The input copied to the GPU and reduced to one number per image: the copy's cost alone. */
function uploadModel(): Uint8Array {
  const g = new GraphBuilder('upload');
  const x = g.input('input', 'float32', ['N', 3, 'H', 'W']);
  g.op('ReduceMean', [x], { axes: [1, 2, 3], keepdims: 0 }, { output: 'features' });
  g.output('features', 'float32', ['N']);
  return g.toBytes();
}

/** Prepends Tile(×8 along the height) to a backbone: the input is an eighth of the image. */
function tiledInput(bytes: Uint8Array): Uint8Array {
  // Rebuild through the builder's proto types: rename the graph input and add the Tile node first.
  const { decodeModel, encodeModel, onnx, makeTensor } = graphModule;
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const inp = graph.input![0];
  const small = 'input_eighth';
  const reps = makeTensor('tile_repeats', 'int64', [4], BigInt64Array.from([1n, 1n, 8n, 1n]));
  graph.initializer!.push(reps);
  graph.node!.unshift(
    onnx.NodeProto.create({
      opType: 'Tile',
      input: [small, 'tile_repeats'],
      output: [inp.name!],
      name: 'tile_input',
    }),
  );
  graph.input![0] = onnx.ValueInfoProto.create({ ...inp, name: small });
  return encodeModel(model);
}
let graphModule: typeof import('../../model-runner/src/onnx/graph.ts');

// ---------------------------------------------------------------------------------------------
// Child: one setting in this process.

function sessionOptions(s: Setting, outputNames: readonly string[]): InferenceSession.SessionOptions {
  const provider: Record<string, unknown> = { name: ep };
  if (ep === 'webgpu') {
    if (s.layout) provider.preferredLayout = s.layout;
    if (s.validation) provider.validationMode = s.validation;
    if (s.storageCache) provider.storageBufferCacheMode = s.storageCache;
  }
  const options: InferenceSession.SessionOptions = {
    executionProviders: [provider as unknown as InferenceSession.ExecutionProviderConfig],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  const extra: Record<string, string> = { ...s.extra };
  if (s.gpuOutput && ep === 'webgpu')
    options.preferredOutputLocation = Object.fromEntries(outputNames.map((n) => [n, 'gpu-buffer' as const]));
  if (s.graphCapture) {
    options.enableGraphCapture = true;
    extra['ep.webgpuexecutionprovider.enableGraphCapture'] = '1';
  }
  if (Object.keys(extra).length) options.extra = extra;
  if (s.profile) {
    options.enableProfiling = true;
    options.profileFilePrefix = path.join(work, `profile-${s.id}`);
  }
  return options;
}

async function read(t: ort.Tensor): Promise<Float32Array> {
  // A gpu-buffer tensor is read back before the next run: that read is part of the cost.
  return (t.location === 'gpu-buffer' ? await t.getData(true) : t.data) as Float32Array;
}

function summariseProfile(file: string): ProfileSummary {
  type Ev = { cat?: string; name?: string; dur?: number; args?: Record<string, string> };
  const events = JSON.parse(readFileSync(file, 'utf8')) as Ev[];
  const categories: Record<string, number> = {};
  const ops = new Map<string, { op: string; provider: string; us: number; count: number }>();
  const kernels = new Map<string, { name: string; us: number; count: number }>();
  const runUs: number[] = [];
  const gpuOps = new Map<string, { op: string; us: number; count: number }>();
  let gpuUs = 0;
  for (const e of events) {
    const cat = e.cat ?? '?';
    categories[cat] = (categories[cat] ?? 0) + 1;
    if (cat === 'Session' && e.name === 'model_run') runUs.push(e.dur ?? 0);
    if (cat === 'Node' && e.name?.endsWith('_kernel_time')) {
      const op = e.args?.op_name ?? '?';
      const provider = e.args?.provider ?? '?';
      const k = `${op}|${provider}`;
      const o = ops.get(k) ?? { op, provider, us: 0, count: 0 };
      o.us += e.dur ?? 0;
      o.count++;
      ops.set(k, o);
    } else if (cat !== 'Node' && cat !== 'Session') {
      // GPU timestamp events of the WebGPU provider (when it reports them): one per dispatched shader.
      const name = e.name ?? '?';
      const o = kernels.get(name) ?? { name, us: 0, count: 0 };
      o.us += e.dur ?? 0;
      o.count++;
      kernels.set(name, o);
      const op = name.split('&').slice(1).join('&') || name;
      const g = gpuOps.get(op) ?? { op, us: 0, count: 0 };
      g.us += e.dur ?? 0;
      g.count++;
      gpuOps.set(op, g);
      gpuUs += e.dur ?? 0;
    }
  }
  const top = <T extends { us: number }>(m: Map<string, T>) =>
    [...m.values()].sort((a, b) => b.us - a.us).slice(0, 25);
  return {
    file: path.basename(file),
    events: events.length,
    categories,
    byOpType: top(ops),
    byKernel: top(kernels),
    gpuByOpType: top(gpuOps),
    gpuUs,
    runUs,
  };
}

async function runChild(s: Setting): Promise<Result> {
  graphModule = await import('../../model-runner/src/onnx/graph.ts');
  const r: Result = { ...s, ok: false };
  const tiled = s.input === 'tiled';
  const [h, w] =
    s.model === 'tiny' ? [64, 64] : s.model === 'scattering' ? SCATTERING_INPUT : [height, width];
  const channels = s.model === 'scattering' ? 1 : 3;
  const output = s.model === 'scattering' ? 's1' : 'features';
  const bytes = readFileSync(modelFile(s));
  let t = Date.now();
  const probe = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const outputs = probe.outputNames;
  await probe.release();
  const session = await ort.InferenceSession.create(bytes, sessionOptions(s, outputs));
  r.createS = (Date.now() - t) / 1000;
  const inputName = session.inputNames[0];
  const rms = (a: Float32Array) => Math.sqrt(a.reduce((sum, v) => sum + v * v, 0) / a.length);
  if (s.model === 'resnet34' && !s.graphCapture && !tiled) {
    // Numerics at the check size (graph capture fixes the shapes, so it is checked at full size only).
    const reference = new Float32Array(new Uint8Array(readFileSync(path.join(work, 'reference.f32'))).buffer);
    const x = new ort.Tensor('float32', calibrationBatch(11, 1, CHECK.h, CHECK.w), [1, 3, CHECK.h, CHECK.w]);
    const f = await read((await session.run({ [inputName]: x }, ['features'])).features);
    // (with the flips in the graph the first of the four vectors is the unflipped image's)
    r.maxAbsDiffVsCpu = f
      .subarray(0, reference.length)
      .reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), 0);
  }
  const rows = tiled ? h / 8 : h;
  const uploaded = s.input === 'flips' ? s.batch / 4 : s.batch; // images sent; the graph makes the flips
  const one = calibrationBatch(5, 1, rows, w).subarray(0, channels * rows * w);
  const data = new Float32Array(uploaded * one.length);
  for (let i = 0; i < uploaded; i++) data.set(one, i * one.length);
  const x = new ort.Tensor('float32', data, [uploaded, channels, rows, w]);
  const run = async () => read((await session.run({ [inputName]: x }, [output]))[output]);
  t = Date.now();
  const f0 = await run();
  r.warmupS = (Date.now() - t) / 1000;
  r.featureRms = rms(f0.subarray(0, Math.min(512, f0.length)));
  const startAt = Number(arg('start-at', '0'));
  const holdMs = Number(arg('hold-ms', '0'));
  if (startAt) while (Date.now() < startAt) await new Promise((res) => setTimeout(res, 5));
  const times: number[] = [];
  const loopStart = Date.now();
  const more = () =>
    holdMs
      ? Date.now() - loopStart < holdMs
      : times.length < (s.profile ? 4 : 12) && (times.length < 3 || Date.now() - loopStart < 2000);
  while (more()) {
    t = performance.now();
    await run();
    times.push((performance.now() - t) / 1000);
  }
  if (holdMs) {
    r.runs = times.length;
    r.secondsPerRun = (Date.now() - loopStart) / 1000 / times.length;
  } else {
    times.sort((a, b) => a - b);
    r.runs = times.length;
    r.secondsPerRun = times[Math.floor(times.length / 2)]; // median
  }
  r.imagesPerSecond = s.batch / r.secondsPerRun;
  if (s.model === 'resnet34') r.tflops = (2 * resnet34Macs(height, width) * r.imagesPerSecond) / 1e12;
  if (s.profile) {
    session.endProfiling();
    const prefix = `profile-${s.id}`;
    const file = readdirSync(work)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
      .map((f) => path.join(work, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (file) r.profileSummary = summariseProfile(file);
  }
  await session.release();
  r.ok = true;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Parent: prepare models and references, then one child process per setting.

function spawnChild(
  s: Setting,
  out: string,
  extraArgs: string[],
  limitS: number,
): Promise<{ code: number | null; signal: string | null; stderrTail: string }> {
  const self = fileURLToPath(import.meta.url);
  const argv = [
    ...process.execArgv,
    self,
    '--child',
    s.id,
    '--ep',
    ep,
    '--size',
    `${height}x${width}`,
    '--work',
    work,
    '--out',
    out,
    ...extraArgs,
  ];
  return new Promise((resolve) => {
    const c = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'pipe'] });
    let tail = '';
    c.stderr.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-1500);
      process.stderr.write(d);
    });
    const timer = setTimeout(() => c.kill('SIGKILL'), limitS * 1000);
    c.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderrTail: tail.trim().split('\n').slice(-6).join(' | ') });
    });
  });
}

async function parent(): Promise<void> {
  mkdirSync(work, { recursive: true });
  graphModule = await import('../../model-runner/src/onnx/graph.ts');
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
  const settings = SETTINGS.filter((s) => !only || only.split(',').includes(s.id));

  const t0 = Date.now();
  const weights = initResNet34Weights(0);
  await calibrateBatchNorm(weights, { seed: 0 });
  const written = new Set<string>();
  for (const s of settings) {
    const file = modelFile(s);
    if (written.has(file)) continue;
    written.add(file);
    let bytes: Uint8Array;
    if (s.model === 'tiny') bytes = tinyModel();
    else if (s.model === 'upload') bytes = uploadModel();
    else if (s.model === 'scattering') bytes = buildScatteringModel();
    else {
      bytes = buildResNet34Model(weights, { precision: s.precision, foldBatchNorm: s.fold });
      if (s.input === 'tiled') bytes = tiledInput(bytes);
      if (s.input === 'flips') bytes = withFlipVariants(bytes, 'input');
    }
    writeFileSync(file, bytes);
  }
  // Reference features on CPU fp32 at the check size, for each GPU setting's numerics.
  const cpu = await ort.InferenceSession.create(buildResNet34Model(weights), { logSeverityLevel: 3 });
  const x = new ort.Tensor('float32', calibrationBatch(11, 1, CHECK.h, CHECK.w), [1, 3, CHECK.h, CHECK.w]);
  const reference = (await cpu.run({ input: x }, ['features'])).features.data as Float32Array;
  await cpu.release();
  writeFileSync(path.join(work, 'reference.f32'), reference);
  report.referenceFeatureRms = Math.sqrt(reference.reduce((a, v) => a + v * v, 0) / reference.length);
  report.prepareS = (Date.now() - t0) / 1000;
  save();

  let noAdapter = false;
  for (const s of settings) {
    if (noAdapter || elapsed() > budgetS) {
      report.results.push({
        ...s,
        ok: false,
        error: noAdapter ? 'skipped: no WebGPU adapter' : `skipped: budget of ${budgetS} s used`,
      });
      continue;
    }
    let r: Result;
    if (s.concurrent) {
      const n = s.concurrent;
      const startAt = Date.now() + 20_000; // every child past its session creation and warm-up
      const outs = Array.from({ length: n }, (_, i) => path.join(work, `${s.id}-${i}.json`));
      const exits = await Promise.all(
        outs.map((o) => spawnChild(s, o, ['--start-at', String(startAt), '--hold-ms', '5000'], 60)),
      );
      const parts = outs.map((o) => {
        try {
          return JSON.parse(readFileSync(o, 'utf8')) as Result;
        } catch {
          return undefined;
        }
      });
      if (parts.every((p) => p?.ok)) {
        const perProcess = parts.map((p) => p!.imagesPerSecond!);
        const ips = perProcess.reduce((a, b) => a + b, 0);
        r = {
          ...s,
          ok: true,
          perProcess,
          imagesPerSecond: ips,
          tflops: (2 * resnet34Macs(height, width) * ips) / 1e12,
        };
      } else
        r = { ...s, ok: false, error: 'a concurrent process failed', exit: exits.find((e) => e.code !== 0) };
    } else {
      const o = path.join(work, `${s.id}.json`);
      const exit = await spawnChild(s, o, [], 90);
      try {
        r = JSON.parse(readFileSync(o, 'utf8')) as Result;
      } catch {
        r = { ...s, ok: false, error: 'the process ended without a result', exit };
      }
      if (!r.ok && !r.exit) r.exit = exit;
    }
    if (/Failed to get a WebGPU adapter/.test(r.error ?? '')) noAdapter = true;
    report.results.push(r);
    console.log(
      `${s.id.padEnd(30)} ${r.ok ? `${r.imagesPerSecond!.toFixed(2)} img/s${r.secondsPerRun ? `  (${r.secondsPerRun.toFixed(3)} s/run, warm-up ${r.warmupS?.toFixed(1)} s, create ${r.createS?.toFixed(1)} s, diff ${r.maxAbsDiffVsCpu?.toExponential(1) ?? '-'})` : ''}` : `FAILED ${r.error} ${r.exit ? JSON.stringify(r.exit) : ''}`}`,
    );
    save();
  }
  report.totalS = elapsed();
  save();
}

if (child) {
  const s = SETTINGS.find((x) => x.id === child);
  if (!s) throw new Error(`unknown setting ${child}`);
  try {
    writeFileSync(outFile, JSON.stringify(await runChild(s)));
  } catch (err) {
    writeFileSync(
      outFile,
      JSON.stringify({ ...s, ok: false, error: (err as Error).message.split('\n').slice(0, 3).join(' | ') }),
    );
  }
  process.exit(0);
} else {
  parent().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
