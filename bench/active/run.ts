/**
 * `npm run bench:active` — proof that Platina's ordering saves labels (issue 7).
 *
 * On the full synthetic dataset with simulated experts of known truth, replays a labeling campaign in three
 * orders (Platina's priority, random, uncertainty-only), retraining the paper's head every 25 labels, and
 * measures balanced accuracy on held-out bundles against labels spent. Writes bench/results/active.json,
 * docs/active-learning.svg and docs/active-learning.md (generated, so text and numbers never disagree).
 *
 * Options: --seeds N (default 3), --input HxW (default 224x112), --epochs N (default 10), --retrain-every N
 * (default 25), --dir DIR (dataset, default /tmp/platina-synth-full), --scale full|small, --orders a,b,c,
 * --features paper|evidence|fused (what the head sees, model-runner/src/evidence/features.ts; default fused, the
 * runner's PLATINA_FEATURES default), --evidence-cache DIR (the evidence file cache, default DIR/.embeddings: the
 * folder `npm run cv --data DIR` caches into by default, so the two share one `evidence-<version>/` folder; the
 * evidence does not depend on the input size, backbone or conversion, so sharing is safe; it is read whatever
 * --features says, since Platina's order ranks by the runner's unusualness, derived from it: bench/active/platina.ts),
 * --threads N (head training, default 1), --jobs N (seeds run in parallel child processes, default 3),
 * --method 2|3 (conversion, default 2), --out FILE (JSON, default bench/results/active.json),
 * --no-docs (write only the JSON).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ceiling } from './ceiling.ts';
import type { CeilingRow } from './ceiling.ts';
import { loadActiveDataset } from './data.ts';
import { CONSENSUS, HELD_OUT_SETS, runSeed } from './experiment.ts';
import type { SeedResult } from './experiment.ts';
import { makePanel, PANEL_DESCRIPTION } from './experts.ts';
import { PLATINA_SOURCE } from './platina.ts';
import { DEFAULT_FEATURE_SET, parseFeatureSet } from '../../model-runner/src/evidence/features.ts';
import { summarize, writeDocs } from './report.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    input: { type: 'string', default: '224x112' },
    epochs: { type: 'string', default: '10' },
    method: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench/results/active.json' },
    'retrain-every': { type: 'string', default: '25' },
    dir: { type: 'string', default: '/tmp/platina-synth-full' },
    scale: { type: 'string', default: 'full' },
    features: { type: 'string', default: DEFAULT_FEATURE_SET },
    'evidence-cache': { type: 'string' },
    orders: { type: 'string', default: 'platina,random,uncertainty' },
    threads: { type: 'string', default: '1' },
    jobs: { type: 'string', default: '3' },
    'no-docs': { type: 'boolean', default: false },
    /** Only (re)measure the ceiling reference and add it to an existing bench/results/active.json. */
    'only-ceiling': { type: 'boolean', default: false },
    /** Internal: run only this seed and write its result to --result (a child of --jobs). */
    worker: { type: 'string' },
    result: { type: 'string' },
  },
});
const root = path.resolve(import.meta.dirname, '../..');
const seeds = Array.from({ length: Number(values.seeds) }, (_, s) => s);
const [height, width] = values.input!.split('x').map(Number);
const epochs = Number(values.epochs);
const retrainEvery = Number(values['retrain-every']);
const scale = values.scale as 'full' | 'small';
const orders = values.orders!.split(',');
const started = Date.now();
const log = (m: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${m}`);

const data = await loadActiveDataset({
  dir: values.dir!,
  scale,
  inputSize: { height, width },
  cacheDir: path.join(values.dir!, '.bench-active'),
  features: parseFeatureSet(values.features, '--features'),
  evidenceCacheDir: path.resolve(values['evidence-cache'] ?? path.join(values.dir!, '.embeddings')),
  method: values.method === '3' ? 3 : 2,
  log,
});
const abnormal = data.truth.reduce((s, t) => s + t, 0);
log(
  `${data.rows.length} images, ${abnormal} abnormal; features ${data.features} (${data.table.dim} values); ` +
    `embeddings ${height}×${width}, method ${data.method} (bounds ${data.bounds.lo}–${data.bounds.hi}), ` +
    `${data.embedSeconds.toFixed(0)} s; evidence ${data.evidence.version} (${data.evidence.dim} values, ` +
    `${data.evidence.computed} computed, ${data.evidenceSeconds.toFixed(0)} s) from ${data.evidence.cacheDir}`,
);

const seedOptions = (seed: number) => ({
  seed,
  orders,
  epochs,
  retrainEvery,
  threads: Number(values.threads),
  panel: (depth: number, s: number) => makePanel(data, depth, s),
  log,
});

const ceilingOptions = { epochs, threads: Number(values.threads), seed: 0 };
if (values['only-ceiling']) {
  const file = path.resolve(root, values.out!);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  json.ceiling = await ceiling(data, HELD_OUT_SETS, ceilingOptions);
  json.summary = summarize(json.perSeed, orders);
  writeFileSync(file, JSON.stringify(json, null, 1) + '\n');
  if (!values['no-docs']) writeDocs(root, json);
  log('ceiling written');
  process.exit(0);
}

if (values.worker !== undefined) {
  const result = await runSeed(data, seedOptions(Number(values.worker)));
  writeFileSync(values.result!, JSON.stringify(result));
  process.exit(0);
}

/**
 * Seeds run in parallel child processes (each loads the cached embeddings and trains with one thread): on a
 * shared 2-core machine this mostly overlaps the Node/ONNX Runtime overheads of one replay with another's work.
 */
async function runInChild(seed: number): Promise<SeedResult> {
  const file = path.join(os.tmpdir(), `bench-active-${process.pid}-seed${seed}.json`);
  const forward = process.argv
    .slice(2)
    .filter((a, k, all) => !['--jobs', '--seeds'].includes(a) && !['--jobs', '--seeds'].includes(all[k - 1]));
  const child = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1], ...forward, '--worker', String(seed), '--result', file],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`seed ${seed} failed (exit ${code})`);
  return JSON.parse(readFileSync(file, 'utf8')) as SeedResult;
}

const perSeed: SeedResult[] = [];
let ceilingRows: CeilingRow[] | null = null;
const jobs = Math.max(1, Number(values.jobs));
const queue = [...seeds];
const running: Promise<void>[] = [];
for (let j = 0; j < Math.min(jobs, seeds.length); j++) {
  running.push(
    (async () => {
      for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
        perSeed.push(jobs > 1 ? await runInChild(seed) : await runSeed(data, seedOptions(seed)));
        perSeed.sort((a, b) => a.seed - b.seed);
        write();
        log(`seed ${seed} written (${perSeed.length}/${seeds.length})`);
      }
    })(),
  );
}
await Promise.all(running);
if (seeds.length > 0) {
  ceilingRows = await ceiling(data, HELD_OUT_SETS, ceilingOptions);
  write();
  log('ceiling reference written');
}

/** Writes the JSON (and the docs) for the seeds finished so far, so an interrupted run leaves them behind. */
function write(): void {
  const json = {
    name: 'active',
    started: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, jobs },
    settings: {
      dataset: { dir: data.dir, scale, images: data.rows.length, abnormal },
      embeddings: {
        inputSize: `${height}x${width}`,
        method: data.method,
        bounds: data.bounds,
        flips: data.table.variants,
        backbone: data.backbone,
      },
      features: {
        set: data.features,
        inputDim: data.table.dim,
        evidence: {
          version: data.evidence.version,
          values: data.evidence.dim,
          cacheDir: data.evidence.cacheDir,
          computedImages: data.evidence.computed,
        },
      },
      head: { epochs, paperEpochs: 50 },
      retrainEvery,
      consensus: CONSENSUS,
      panel: PANEL_DESCRIPTION,
      platina: PLATINA_SOURCE,
      heldOutSets: HELD_OUT_SETS,
    },
    summary: summarize(perSeed, orders),
    ceiling: ceilingRows,
    perSeed,
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.resolve(root, values.out!), JSON.stringify(json, null, 1) + '\n');
  if (!values['no-docs']) writeDocs(root, json);
}
