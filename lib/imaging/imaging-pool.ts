/**
 * The imaging worker pool: decode/inspect, previews and model inputs off the event loop.
 * `InvalidImageError`s thrown in a worker arrive here as `InvalidImageError`s again.
 */
import type { ImagingTasks } from './tasks.ts';
import { InvalidImageError, type InvalidImageReason } from './tiff-decode.ts';
import { WorkerPool, type SerializedError } from './worker-pool.ts';

export type ImagingPool = WorkerPool<ImagingTasks>;

export function createImagingPool(options: { size?: number } = {}): ImagingPool {
  return new WorkerPool<ImagingTasks>({
    entry: new URL('./imaging.worker.ts', import.meta.url),
    size: options.size,
    reviveError,
  });
}

function reviveError(e: SerializedError): Error {
  if (e.name === 'InvalidImageError') {
    return new InvalidImageError(e.fields.reason as InvalidImageReason, String(e.fields.what));
  }
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}
