/**
 * A tiny worker_threads pool, so CPU-heavy work (TIFF decoding, conversions, resizing, PNG encoding) runs
 * off the event loop. Generic over a table of task functions; `imaging-pool.ts` binds it to the imaging tasks.
 *
 * - Workers are TypeScript modules run through tsx. Node 20 does not apply the parent's `--import tsx`
 *   loader to a worker's entry file (tsx issue #354: ERR_UNKNOWN_FILE_EXTENSION), so each worker starts
 *   from a small JavaScript bootstrap (`eval`) that registers tsx's ESM hooks and then imports the entry.
 *   Startup costs ~0.5 s per worker, hence long-lived workers, spawned lazily on first use.
 * - One task per worker at a time; tasks wait in a FIFO queue. A worker is `ref`ed only while it works,
 *   so an idle pool never keeps a process alive, and a pending task always does.
 * - Results: every ArrayBuffer reachable in the result (typed arrays included) is transferred, not copied.
 *   Inputs: the caller names what to transfer (`transfer`); by default inputs are copied (structured clone).
 * - A worker that crashes rejects its current task and is replaced on the next task.
 * - Budgets (issue 14: a 350-byte TIFF kept the only worker busy for minutes while memory grew to 10 GB):
 *   `taskTimeoutMs` terminates a worker whose task runs longer and rejects the task with a
 *   {@link TaskOverrunError}; `resourceLimits` caps each worker's JavaScript heap, and a worker that reaches it
 *   is ended by V8 and its task rejected the same way. Either way the worker is replaced for the next task, so
 *   one hostile task costs at most one worker for `taskTimeoutMs`. The heap limit does not cover ArrayBuffer
 *   memory (typed arrays live outside V8's heap): the tasks themselves must bound what they allocate, which
 *   `decodeTiff` does by checking a file's layout before allocating.
 * - Workers get an object as `workerData` (see `spawn`): geotiff's `web-worker` dependency needs one.
 */
import { availableParallelism } from 'node:os';
import { Worker, parentPort, type ResourceLimits, type Transferable } from 'node:worker_threads';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskTable = Record<string, (input: any) => unknown>;

type Result<F> = F extends (input: never) => infer R ? Awaited<R> : never;

interface Request {
  id: number;
  task: string;
  input: unknown;
}

type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError };

/** An error as it crosses the thread boundary: name, message and own enumerable data fields. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

export interface WorkerPoolOptions {
  /** The worker's entry module (which calls {@link serveTasks}). */
  entry: URL;
  /** Number of workers; default: available cores − 1, between 1 and 4. */
  size?: number;
  /** A task running longer is abandoned: its worker is terminated and replaced. Default: no limit. */
  taskTimeoutMs?: number;
  /** Per-worker V8 limits (`maxOldGenerationSizeMb`, ...); a worker that reaches them is replaced. */
  resourceLimits?: ResourceLimits;
  /** Rebuild a typed error from its serialised form (default: a plain Error with the same name and message). */
  reviveError?: (e: SerializedError) => Error;
}

interface Job {
  request: Request;
  transfer: Transferable[];
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** A task went over its pool's time or memory budget; its worker was ended. */
export class TaskOverrunError extends Error {
  override readonly name = 'TaskOverrunError';
  constructor(
    readonly budget: 'time' | 'memory',
    readonly task: string,
    message: string,
  ) {
    super(message);
  }
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

const TSX_API = import.meta.resolve('tsx/esm/api');

export class WorkerPool<T extends TaskTable> {
  readonly size: number;
  private readonly entry: URL;
  private readonly taskTimeoutMs: number | undefined;
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly reviveError: (e: SerializedError) => Error;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: WorkerPoolOptions) {
    this.entry = options.entry;
    this.size = options.size ?? defaultPoolSize();
    if (!(Number.isInteger(this.size) && this.size >= 1))
      throw new RangeError(`pool size must be ≥ 1, got ${this.size}`);
    this.reviveError = options.reviveError ?? defaultRevive;
    this.taskTimeoutMs = options.taskTimeoutMs;
    this.resourceLimits = options.resourceLimits;
  }

  /** Runs `task` on a worker. `transfer` lists input buffers to move instead of copy (they become unusable here). */
  run<K extends keyof T & string>(
    task: K,
    input: Parameters<T[K]>[0],
    transfer: Transferable[] = [],
  ): Promise<Result<T[K]>> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({
        request: { id: this.nextId++, task, input },
        transfer,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.dispatch();
    });
  }

  /** Stops all workers; queued and running tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('worker pool closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      if (this.taskTimeoutMs !== undefined) {
        const ms = this.taskTimeoutMs;
        job.timer = setTimeout(() => {
          this.retire(
            slot,
            new TaskOverrunError('time', job.request.task, `${job.request.task} ran longer than ${ms} ms`),
          );
        }, ms);
      }
      slot.worker.postMessage(job.request, job.transfer);
    }
  }

  /** Takes a slot out of service: rejects its task, terminates its worker, and lets the queue move on. */
  private retire(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    const job = slot.job;
    slot.job = null;
    if (job?.timer) clearTimeout(job.timer);
    job?.reject(err);
    void slot.worker.terminate();
    if (!this.closed) this.dispatch();
  }

  private spawn(): Slot {
    const bootstrap = `import(${JSON.stringify(TSX_API)})
      .then(({ register }) => { register(); return import(${JSON.stringify(this.entry.href)}); })`;
    // workerData must be an object: geotiff imports the `web-worker` package, which on import in any worker
    // thread destructures `workerData` (and treats the thread as its own worker only when it holds `mod`).
    const worker = new Worker(bootstrap, {
      eval: true,
      workerData: { platinaWorkerPool: true },
      resourceLimits: this.resourceLimits,
    });
    const slot: Slot = { worker, job: null };
    worker.on('message', (msg: Response) => {
      const job = slot.job;
      if (!job || job.request.id !== msg.id) return;
      if (job.timer) clearTimeout(job.timer);
      slot.job = null;
      worker.unref();
      if (msg.ok) job.resolve(msg.result);
      else job.reject(this.reviveError(msg.error));
      this.dispatch();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const task = slot.job?.request.task ?? 'task';
      this.retire(
        slot,
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new TaskOverrunError(
              'memory',
              task,
              `${task} reached the worker's memory limit (${this.resourceLimits?.maxOldGenerationSizeMb ?? '?'} MB of heap)`,
            )
          : err,
      );
    });
    worker.on('exit', (code) => this.retire(slot, new Error(`imaging worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

function defaultRevive(e: SerializedError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return Object.assign(err, e.fields);
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(err)) {
      if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[k] = v;
    }
    return { name: err.name, message: err.message, stack: err.stack, fields };
  }
  return { name: 'Error', message: String(err), fields: {} };
}

/** Every distinct ArrayBuffer reachable from a result (typed arrays, arrays, plain objects), for transfer. */
export function collectTransferables(value: unknown, out = new Set<ArrayBuffer>(), depth = 0): ArrayBuffer[] {
  if (depth > 4 || value === null || typeof value !== 'object') return [...out];
  if (value instanceof ArrayBuffer) out.add(value);
  else if (ArrayBuffer.isView(value)) {
    // Only whole buffers: transferring a view into a larger (e.g. Node's pooled) buffer would move its neighbours.
    if (
      value.buffer instanceof ArrayBuffer &&
      value.byteOffset === 0 &&
      value.byteLength === value.buffer.byteLength
    ) {
      out.add(value.buffer);
    }
  } else if (Array.isArray(value)) for (const v of value) collectTransferables(v, out, depth + 1);
  else for (const v of Object.values(value)) collectTransferables(v, out, depth + 1);
  return [...out];
}

/** Worker side: answer the pool's requests with the given task functions. Call once in the worker's entry module. */
export function serveTasks(tasks: TaskTable): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks must run inside a worker thread');
  port.on('message', async (req: Request) => {
    let response: Response;
    let transfer: ArrayBuffer[] = [];
    try {
      const fn = tasks[req.task];
      if (!fn) throw new Error(`unknown task "${req.task}"`);
      const result = await fn(req.input);
      transfer = collectTransferables(result);
      response = { id: req.id, ok: true, result };
    } catch (err) {
      response = { id: req.id, ok: false, error: serializeError(err) };
    }
    port.postMessage(response, transfer);
  });
}
