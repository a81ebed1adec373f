/**
 * Image → 512-d embeddings (issue steps 1–3): decode the 16-bit TIFF, convert (method 1–4), resize
 * to the input size and ImageNet-normalise — all through the shared imaging module, in its worker
 * pool so the event loop stays free — then run the backbone on the four flip variants of the
 * preprocessed input, and cache the result.
 *
 * Flips are applied to the preprocessed tensor, not to the TIFF: flipping commutes with the
 * per-pixel conversion and with the separable, symmetric resize filter, so this equals flipping
 * the image first (up to float rounding in the resize), at a fraction of the cost.
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
import { FLIPS, type EmbeddingKey, type EmbeddingStore, type Flip } from './cache.ts';

/**
 * A flipped copy of a C×H×W tensor: 'h' mirrors left–right (width), 'v' top–bottom (height),
 * 'hv' both (a 180° rotation).
 */
export function flipInput(
  data: Float32Array,
  channels: number,
  height: number,
  width: number,
  flip: Flip,
): Float32Array {
  if (flip === 'none') return data.slice();
  const out = new Float32Array(data.length);
  const flipH = flip === 'h' || flip === 'hv';
  const flipV = flip === 'v' || flip === 'hv';
  for (let c = 0; c < channels; c++) {
    const plane = c * height * width;
    for (let y = 0; y < height; y++) {
      const src = data.subarray(plane + y * width, plane + (y + 1) * width);
      const dstRow = plane + (flipV ? height - 1 - y : y) * width;
      if (flipH) for (let x = 0; x < width; x++) out[dstRow + width - 1 - x] = src[x];
      else out.set(src, dstRow);
    }
  }
  return out;
}

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
    const session =
      (options.thread ?? (isMainThread ? 'worker' : 'main')) === 'main'
        ? await ort.InferenceSession.create(options.backbone.bytes, sessionOptions)
        : await WorkerSession.create(options.backbone.bytes, sessionOptions);
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

  /** Features of a batch of preprocessed inputs (each 3×H×W at the input size): one [512] each. */
  async embedTensors(inputs: Float32Array[]): Promise<Float32Array[]> {
    const { height, width } = this.options.inputSize;
    const per = 3 * height * width;
    const batch = new Float32Array(inputs.length * per);
    inputs.forEach((x, i) => {
      if (x.length !== per)
        throw new Error(`input ${i} has ${x.length} values, expected 3×${height}×${width}`);
      batch.set(x, i * per);
    });
    const { inputName, featuresName } = this.options.backbone;
    const out = await this.session.run(
      { [inputName]: new ort.Tensor('float32', batch, [inputs.length, 3, height, width]) },
      [featuresName],
    );
    const f = out[featuresName].data as Float32Array;
    const dim = f.length / inputs.length;
    return inputs.map((_, i) => f.slice(i * dim, (i + 1) * dim));
  }

  private async preprocess(item: EmbedItem): Promise<ModelInput> {
    const input = { source: item.source, conversion: item.conversion, size: this.options.inputSize };
    return this.options.pool ? this.options.pool.run('modelInput', input) : modelInput(input);
  }

  /**
   * The four flip embeddings (FLIPS order) of each item, from the cache where present. Cache misses
   * are preprocessed in the pool ahead of the backbone (one batch in flight) and stored as they
   * complete, so an interrupted run keeps what it finished.
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
    const prefetch = (start: number) =>
      missing.slice(start, start + per).map((i) => {
        const p = this.preprocess(items[i]);
        p.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from being "unhandled"
        return p;
      });
    let next = prefetch(0);
    for (let start = 0; start < missing.length; start += per) {
      const inputs = await Promise.all(next);
      next = prefetch(start + per); // preprocess the next batch while this one runs
      const { height, width } = this.options.inputSize;
      const variants = inputs.flatMap((x) => FLIPS.map((f) => flipInput(x.data, 3, height, width, f)));
      const features = await this.embedTensors(variants);
      for (let k = 0; k < inputs.length; k++) {
        const i = missing[start + k];
        const vectors = features.slice(k * FLIPS.length, (k + 1) * FLIPS.length);
        await store.put(this.keyOf(items[i]), vectors);
        result[i] = vectors;
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
