/**
 * Image → 512-d embeddings (issue steps 1–3): decode the 16-bit TIFF, convert (method 1–4), resize
 * to the input size and ImageNet-normalise — all through the shared imaging module, in its worker
 * pool so the event loop stays free — then run the backbone on the four flip variants of the
 * preprocessed input, and cache the result.
 *
 * The flips are made inside the backbone's graph (flip-graph.ts): each image is sent to the runtime
 * once and the graph mirrors it, instead of four host copies. Flipping the preprocessed tensor
 * rather than the TIFF is exact: flipping commutes with the per-pixel conversion and with the
 * separable, symmetric resize filter (up to float rounding in the resize).
 */
import { isMainThread } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { Conversion } from '../../../lib/imaging/conversions.ts';
import type { ImagingPool } from '../../../lib/imaging/imaging-pool.ts';
import type { ModelInput, Size } from '../../../lib/imaging/resize.ts';
import { modelInput, type ImageSource } from '../../../lib/imaging/tasks.ts';
import type { Backbone } from '../backbone/load.ts';
import type { EpChoice } from '../onnx/ep.ts';
import { WorkerSession } from '../onnx/worker-session.ts';
import type { EmbeddingKey, EmbeddingStore } from './cache.ts';
import { splitFlipFeatures, withFlipVariants } from './flip-graph.ts';

export interface EmbedItem {
  /** sha256 of the image file (the cache key). */
  sha256: string;
  source: ImageSource;
  conversion: Conversion;
}

export interface EmbedderOptions {
  backbone: Backbone;
  ep: EpChoice;
  inputSize: Size;
  store: EmbeddingStore;
  /** Imaging worker pool; without one, preprocessing runs on this thread (tests, scripts). */
  pool?: ImagingPool;
  /** Images per backbone run (each contributes its 4 flips). Default 1: 4 inputs a run. */
  imagesPerBatch?: number;
  /**
   * Batches preprocessed ahead of the backbone (default 2). Preprocessing a full-size image
   * (decode, convert, resize) takes about as long as the backbone's four passes on a GPU, so with one
   * batch ahead the GPU waits; two keep it fed from the pool's workers. Each ahead costs one batch of
   * inputs in memory (24 MB an image at 2000×1000).
   */
  prefetchBatches?: number;
  /**
   * Where the backbone runs: 'worker', a worker thread of its own, so the event loop stays free
   * (onnxruntime-node computes synchronously on the calling thread, see onnx/worker-session.ts);
   * 'main', the calling thread. Default: 'worker' on the main thread, 'main' when the caller is
   * already a worker (the runner's compute thread): no second hop.
   */
  thread?: 'worker' | 'main';
}

/** What the embedder needs of a session: ort.InferenceSession and WorkerSession both fit. */
interface Session {
  run(feeds: Record<string, ort.Tensor>, fetches: string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

export interface EmbedProgress {
  done: number;
  total: number;
  cached: number;
}

/** Embeds images with one backbone session. Create with {@link Embedder.create}; `close()` when done. */
export class Embedder {
  private constructor(
    private readonly session: Session,
    private readonly options: EmbedderOptions,
  ) {}

  static async create(options: EmbedderOptions): Promise<Embedder> {
    const sessionOptions = {
      executionProviders: options.ep.executionProviders,
      graphOptimizationLevel: 'all' as const,
    };
    const bytes = withFlipVariants(options.backbone.bytes, options.backbone.inputName);
    const session =
      (options.thread ?? (isMainThread ? 'worker' : 'main')) === 'main'
        ? await ort.InferenceSession.create(bytes, sessionOptions)
        : await WorkerSession.create(bytes, sessionOptions);
    return new Embedder(session, options);
  }

  get inputSizeKey(): string {
    return `${this.options.inputSize.height}x${this.options.inputSize.width}`;
  }

  keyOf(item: EmbedItem): EmbeddingKey {
    const c = item.conversion;
    return {
      sha256: item.sha256,
      backboneHash: this.options.backbone.hash,
      inputSize: this.inputSizeKey,
      method: c.method,
      globalBounds: c.method === 2 || c.method === 4 ? c.global : undefined,
    };
  }

  /**
   * The four flip features (FLIPS order) of each preprocessed input (3×H×W at the input size), in one
   * backbone run. One input is handed to the runtime as it is (no copy; a worker session takes its
   * buffer), several are packed into one batch.
   */
  async embedInputs(inputs: Float32Array[]): Promise<Float32Array[][]> {
    const { height, width } = this.options.inputSize;
    const per = 3 * height * width;
    inputs.forEach((x, i) => {
      if (x.length !== per)
        throw new Error(`input ${i} has ${x.length} values, expected 3×${height}×${width}`);
    });
    let batch: Float32Array;
    if (inputs.length === 1) batch = inputs[0];
    else {
      batch = new Float32Array(inputs.length * per);
      inputs.forEach((x, i) => batch.set(x, i * per));
    }
    const { inputName, featuresName } = this.options.backbone;
    const out = await this.session.run(
      { [inputName]: new ort.Tensor('float32', batch, [inputs.length, 3, height, width]) },
      [featuresName],
    );
    return splitFlipFeatures(out[featuresName].data as Float32Array, inputs.length);
  }

  private async preprocess(item: EmbedItem): Promise<ModelInput> {
    const input = { source: item.source, conversion: item.conversion, size: this.options.inputSize };
    return this.options.pool ? this.options.pool.run('modelInput', input) : modelInput(input);
  }

  /**
   * The four flip embeddings (FLIPS order) of each item, from the cache where present. Cache misses
   * are preprocessed in the pool ahead of the backbone (`prefetchBatches` in flight) and stored as
   * they complete, so an interrupted run keeps what it finished.
   */
  async embed(items: EmbedItem[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[][]> {
    const { store } = this.options;
    const result: Float32Array[][] = new Array(items.length);
    const missing: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const hit = await store.get(this.keyOf(items[i]));
      if (hit) result[i] = hit;
      else missing.push(i);
    }
    const cached = items.length - missing.length;
    let done = cached;
    onProgress?.({ done, total: items.length, cached });
    const per = Math.max(1, this.options.imagesPerBatch ?? 1);
    const ahead = Math.max(1, this.options.prefetchBatches ?? 2);
    const prefetch = (start: number) =>
      missing.slice(start, start + per).map((i) => {
        const p = this.preprocess(items[i]);
        p.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from being "unhandled"
        return p;
      });
    const queue: Promise<ModelInput>[][] = [];
    let queued = 0; // items of `missing` handed to the pool so far
    const fill = () => {
      while (queue.length < ahead && queued < missing.length) {
        queue.push(prefetch(queued));
        queued += per;
      }
    };
    fill();
    for (let start = 0; start < missing.length; start += per) {
      const inputs = await Promise.all(queue.shift()!);
      fill(); // keep `ahead` batches in the pool while this one runs
      const features = await this.embedInputs(inputs.map((x) => x.data));
      for (let k = 0; k < inputs.length; k++) {
        const i = missing[start + k];
        await store.put(this.keyOf(items[i]), features[k]);
        result[i] = features[k];
      }
      done += inputs.length;
      onProgress?.({ done, total: items.length, cached });
    }
    return result;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
