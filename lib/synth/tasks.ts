/** The work one synthetic image takes: render it row by row straight into its TIFF file. Runs in a worker or inline. */
import { writeTiff } from '../imaging/tiff-write.ts';
import type { DatasetPlan, ImageSpec } from './plan.ts';
import { ElectrodeRenderer } from './render.ts';

export type PlanHead = Pick<DatasetPlan, 'seed' | 'scale' | 'bundles'>;

/** Renders `image` into `path` (16-bit TIFF, 64 KiB strips); returns the file size. */
export function writeSyntheticImage(input: { plan: PlanHead; image: ImageSpec; path: string }): {
  bytes: number;
} {
  const { plan, image, path } = input;
  const renderer = new ElectrodeRenderer(plan, image);
  const bytes = writeTiff(path, { width: image.width, height: image.height, bitDepth: 16 }, (y, out) =>
    renderer.row(y, out),
  );
  return { bytes };
}

export const synthTasks = { writeSyntheticImage };
export type SynthTasks = typeof synthTasks;
