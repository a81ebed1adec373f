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
 * progress messages. The thread starts on first use (tsx bootstrap as in lib/imaging/worker-pool.ts) and
 * is `ref`ed only while it works, so an idle runner never keeps a process alive.
 *
 * A computation cannot be interrupted: terminating a thread inside onnxruntime's native code aborts the
 * whole process (seen: "terminate called after throwing an instance of 'Napi::Error'"). So `abandon()`
 * only rejects the callers at once and drops the result when it comes; `terminate()` first waits for the
 * thread to be idle.
 */
export class ComputeThread {
  private worker: Worker | null = null;
  private nextId = 1;
  /** Requests sent and not yet answered, abandoned ones included: the thread is busy while > 0. */
  private inFlight = new Set<number>();
  private idleWaiters: (() => void)[] = [];
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
      this.inFlight.add(id);
      worker.ref();
      worker.postMessage({ id, task, input } satisfies ComputeRequest);
    });
  }

  /** Reject every pending call now (the runner stops or lost its job); their results are dropped later. */
  abandon(why: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(why);
    }
  }

  /**
   * Stop the thread once it is idle (waiting at most `waitMs`; after that it is left to finish and the
   * process may exit around it). The next call starts a fresh thread.
   */
  async terminate(waitMs = 60_000): Promise<void> {
    if (this.inFlight.size > 0) {
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => setTimeout(r, waitMs).unref()),
      ]);
      if (this.inFlight.size > 0) return;
    }
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
      if (!('progress' in msg)) {
        this.inFlight.delete(msg.id);
        if (this.inFlight.size === 0) {
          worker.unref();
          for (const w of this.idleWaiters.splice(0)) w();
        }
      }
      const p = this.pending.get(msg.id);
      if (!p) return; // abandoned
      if ('progress' in msg) {
        p.progress?.(msg.progress, msg.message);
        return;
      }
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(Object.assign(new Error(msg.error.message), { name: msg.error.name }, msg.error.fields));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      this.inFlight.clear();
      for (const w of this.idleWaiters.splice(0)) w();
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
