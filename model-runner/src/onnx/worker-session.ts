/**
 * An onnxruntime session in its own worker thread.
 *
 * Why: onnxruntime-node's `InferenceSession.create` and `run` return promises but do their work
 * synchronously on the calling thread (node_modules/onnxruntime-node/lib/backend.ts defers the
 * native call with setImmediate, nothing more). A ResNet-34 forward pass at 2000×1000 takes
 * seconds on CPU, so run on the main thread it would freeze the API whenever the runner works
 * inside the `npm start` process. Here the session lives in a worker; the main thread only posts
 * tensors (transferred, not copied) and awaits the answer.
 */
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { WorkerPool } from '../../../lib/imaging/worker-pool.ts';
import type { PlainTensor, SessionTasks } from './session-tasks.ts';

export class WorkerSession {
  private constructor(
    private readonly pool: WorkerPool<SessionTasks>,
    private readonly id: number,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  /** Opens `bytes` with `options` in a new worker thread (one thread per session). */
  static async create(
    bytes: Uint8Array,
    options: InferenceSession.SessionOptions = {},
  ): Promise<WorkerSession> {
    const pool = new WorkerPool<SessionTasks>({
      entry: new URL('./session.worker.ts', import.meta.url),
      size: 1,
    });
    try {
      const { id, inputNames, outputNames } = await pool.run('open', { bytes, options });
      return new WorkerSession(pool, id, inputNames, outputNames);
    } catch (err) {
      await pool.close();
      throw err;
    }
  }

  /**
   * Runs the session. The feeds' buffers are transferred to the worker when each tensor owns its
   * whole buffer (they become unusable here); other feeds are copied.
   */
  async run(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.Tensor>> {
    const plain: Record<string, PlainTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(feeds)) {
      const data = t.data as ArrayBufferView;
      plain[name] = { type: t.type, data: t.data, dims: t.dims };
      if (
        data.buffer instanceof ArrayBuffer &&
        data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength
      ) {
        transfer.push(data.buffer);
      }
    }
    const out = await this.pool.run('run', { id: this.id, feeds: plain, fetches }, transfer);
    const result: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(out))
      result[name] = new ort.Tensor(t.type, t.data as never, t.dims);
    return result;
  }

  async release(): Promise<void> {
    try {
      await this.pool.run('release', { id: this.id });
    } finally {
      await this.pool.close();
    }
  }
}
