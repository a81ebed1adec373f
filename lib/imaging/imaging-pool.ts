/**
 * The imaging worker pool: decode/inspect, previews and model inputs off the event loop.
 * `InvalidImageError`s thrown in a worker arrive here as `InvalidImageError`s again.
 *
 * Every pool runs with a budget per task (see `worker-pool.ts`): {@link DEFAULT_TASK_TIMEOUT_MS} of time and
 * {@link DEFAULT_HEAP_MB} of JavaScript heap per worker; a task over either is rejected with a
 * `TaskOverrunError` and its worker replaced. The time budget is ~40× what the largest image Platina accepts
 * (100 million pixels) needs to decode, so only hostile or broken input reaches it.
 */
import type { ImagingTasks } from './tasks.ts';
import { InvalidImageError, type InvalidImageReason } from './tiff-decode.ts';
import { WorkerPool, type SerializedError } from './worker-pool.ts';

export type ImagingPool = WorkerPool<ImagingTasks>;

export const DEFAULT_TASK_TIMEOUT_MS = 20_000;
/**
 * Heap (not ArrayBuffer) limit per worker. Pixels live in typed arrays outside the heap and are bounded by
 * `decodeTiff`'s layout checks; the heap holds tsx's loader (~40 MB) and decoders' bookkeeping.
 */
export const DEFAULT_HEAP_MB = 256;

export function createImagingPool(
  options: { size?: number; taskTimeoutMs?: number; heapMb?: number } = {},
): ImagingPool {
  return new WorkerPool<ImagingTasks>({
    entry: new URL('./imaging.worker.ts', import.meta.url),
    size: options.size,
    taskTimeoutMs: options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS,
    resourceLimits: { maxOldGenerationSizeMb: options.heapMb ?? DEFAULT_HEAP_MB },
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
