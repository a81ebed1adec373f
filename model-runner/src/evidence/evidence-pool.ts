/**
 * The evidence worker pool: one image per worker, each worker with its own single-threaded scattering session.
 * Images come from the store already validated by the upload path; the budget is the imaging pool's, so a
 * broken file costs one worker for at most that long.
 */
import { DEFAULT_HEAP_MB, DEFAULT_TASK_TIMEOUT_MS } from '../../../lib/imaging/imaging-pool.ts';
import { InvalidImageError, type InvalidImageReason } from '../../../lib/imaging/tiff-decode.ts';
import { WorkerPool, type SerializedError } from '../../../lib/imaging/worker-pool.ts';
import type { EvidenceTasks } from './evidence-tasks.ts';

export type EvidencePool = WorkerPool<EvidenceTasks>;

export function createEvidencePool(options: { size?: number } = {}): EvidencePool {
  return new WorkerPool<EvidenceTasks>({
    entry: new URL('./evidence.worker.ts', import.meta.url),
    size: options.size,
    taskTimeoutMs: DEFAULT_TASK_TIMEOUT_MS,
    resourceLimits: { maxOldGenerationSizeMb: DEFAULT_HEAP_MB },
    reviveError: (e: SerializedError) => {
      if (e.name === 'InvalidImageError')
        return new InvalidImageError(e.fields.reason as InvalidImageReason, String(e.fields.what));
      const err = new Error(e.message);
      err.name = e.name;
      return err;
    },
  });
}
