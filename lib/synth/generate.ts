/**
 * Generates a synthetic data set on disk: `<out>/<bundle>/<bundle>-<nnn>.tif` and `<out>/manifest.csv`.
 *
 * Speed: images are independent (each has its own random streams, see random.ts), so they are spread over worker
 * threads (default: one per core, at most 8; 2 on this project's machine) and each is streamed row by row
 * into its file. The output does not depend on the number of workers or on scheduling: byte-for-byte the same for
 * the same (seed, scale, bundles).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { WorkerPool } from '../imaging/worker-pool.ts';
import { manifestCsv } from './manifest.ts';
import { planDataset, type DatasetPlan, type Scale } from './plan.ts';
import { writeSyntheticImage, type PlanHead, type SynthTasks } from './tasks.ts';

export interface GenerateOptions {
  out: string;
  seed?: number;
  scale?: Scale;
  bundles?: number;
  /** Images per bundle (plan.ts PlanOptions); unset: the scale's own sizes. */
  imagesPerBundle?: number;
  /** Worker threads; 0 or 1 renders on the calling thread. Default: min(8, cores). */
  workers?: number;
  /** Called after each image is written. */
  onImage?: (done: number, total: number) => void;
}

export interface GenerateResult {
  plan: DatasetPlan;
  manifestPath: string;
  images: number;
  bytes: number;
  seconds: number;
}

export const DEFAULT_SEED = 2022;

export async function generateDataset(options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const plan = planDataset({
    seed: options.seed ?? DEFAULT_SEED,
    scale: options.scale ?? 'full',
    bundles: options.bundles,
    imagesPerBundle: options.imagesPerBundle,
  });
  const head: PlanHead = { seed: plan.seed, scale: plan.scale, bundles: plan.bundles };
  for (const b of plan.bundles) mkdirSync(join(options.out, b.name), { recursive: true });

  const workers = options.workers ?? Math.min(8, availableParallelism());
  let done = 0;
  let bytes = 0;
  const finished = (n: number) => {
    bytes += n;
    options.onImage?.(++done, plan.images.length);
  };
  if (workers <= 1) {
    for (const image of plan.images) {
      finished(writeSyntheticImage({ plan: head, image, path: join(options.out, image.file) }).bytes);
    }
  } else {
    const pool = new WorkerPool<SynthTasks>({
      entry: new URL('./synth.worker.ts', import.meta.url),
      size: workers,
    });
    try {
      await Promise.all(
        plan.images.map((image) =>
          pool
            .run('writeSyntheticImage', { plan: head, image, path: join(options.out, image.file) })
            .then((r) => finished(r.bytes)),
        ),
      );
    } finally {
      await pool.close();
    }
  }

  // The manifest is written last and atomically: its presence means the data set is complete.
  const manifestPath = join(options.out, 'manifest.csv');
  mkdirSync(dirname(manifestPath), { recursive: true });
  writeFileSync(`${manifestPath}.partial`, manifestCsv(plan.images));
  renameSync(`${manifestPath}.partial`, manifestPath);
  return {
    plan,
    manifestPath,
    images: plan.images.length,
    bytes,
    seconds: (performance.now() - started) / 1000,
  };
}
