import { Worker } from 'node:worker_threads';
import type { SerializedError } from '../../../lib/imaging/worker-pool.ts';
import type { ComputeTasks } from './compute.worker.ts';

export interface ComputeRequest {
  id: number;
  task: keyof ComputeTasks;
  input: unknown;
}
export type ComputeResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError }
  | { id: number; progress: number; message: string };

type Input<K extends keyof ComputeTasks> = Parameters<ComputeTasks[K]>[0];
type Output<K extends keyof ComputeTasks> = Awaited<ReturnType<ComputeTasks[K]>>;

const TSX_API = import.meta.resolve('tsx/esm/api');
const ENTRY = new URL('./compute.worker.ts', import.meta.url);

/**
 * One long-lived worker thread for the runner's onnxruntime work (see compute.worker.ts for why), with
 * progress messages and `terminate()` to abandon a computation at once when the runner stops. The
 * thread starts on first use (tsx bootstrap as in lib/imaging/worker-pool.ts) and is `ref`ed only while
 * it works, so an idle runner never keeps a process alive.
 */
export class ComputeThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (p: number, m: string) => void }
  >();

  run<K extends keyof ComputeTasks>(
    task: K,
    input: Input<K>,
    progress?: (p: number, message: string) => void,
  ): Promise<Output<K>> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      worker.ref();
      worker.postMessage({ id, task, input } satisfies ComputeRequest);
    });
  }

  /** Kill the thread (and whatever it computes); pending calls reject. The next call starts a fresh one. */
  async terminate(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const bootstrap = `import(${JSON.stringify(TSX_API)})
      .then(({ register }) => { register(); return import(${JSON.stringify(ENTRY.href)}); })`;
    // workerData must be an object (geotiff's `web-worker` dependency destructures it; see worker-pool.ts).
    const worker = new Worker(bootstrap, { eval: true, workerData: { platinaCompute: true } });
    worker.unref();
    worker.on('message', (msg: ComputeResponse) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      if ('progress' in msg) {
        p.progress?.(msg.progress, msg.message);
        return;
      }
      this.pending.delete(msg.id);
      if (this.pending.size === 0) worker.unref();
      if (msg.ok) p.resolve(msg.result);
      else p.reject(Object.assign(new Error(msg.error.message), { name: msg.error.name }, msg.error.fields));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(err);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the compute thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
