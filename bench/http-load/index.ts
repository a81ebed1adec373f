import { WorkerPool } from '../../lib/imaging/worker-pool.ts';
import { loadTasks } from './tasks.ts';

/** One worker thread that plays the experts' browsers against a server in this process. */
export function httpLoad(): WorkerPool<typeof loadTasks> {
  return new WorkerPool<typeof loadTasks>({ entry: new URL('./load.worker.ts', import.meta.url), size: 1 });
}
