import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../../lib/db/schema.ts';
import { usesGlobalBounds, type Method, type StretchBounds } from '../../../lib/imaging/conversions.ts';
import { parseInputSize } from '../backbone/load.ts';
import type { CrossValidateInput, CrossValidateResult } from '../cv/cross-validate.ts';
import type { EmbeddingTable } from '../head/train.ts';
import type { HeadParams } from '../head/params.ts';
import { JobAbandoned } from '../../../lib/jobs/worker.ts';
import { ComputeThread } from './compute.ts';
import { boundsTag, DbEmbeddingStore } from './embedding-store.ts';
import type { EmbeddingKey } from '../embeddings/cache.ts';
import { conversionFor, type ImageRef } from './repository.ts';
import { encodeTiff } from '../../../lib/imaging/tiff-write.ts';
import { createEvidencePool, type EvidencePool } from '../evidence/evidence-pool.ts';
import { EVIDENCE_VERSION } from '../evidence/extract.ts';
import { parseFeatureSet, type FeatureSet } from '../evidence/features.ts';
import type { UnusualnessInput, UnusualnessResult } from '../evidence/unusualness.ts';
import { evidenceOf, putEvidence } from './evidence-store.ts';
import { parseImageStoreSpec, type ImageSourceReader } from '../../../lib/image-store/image-store.ts';
import { openImageSource } from '../../../lib/image-store/open.ts';

/** At most this many vectors (2 KB each) are kept in memory: 200 MB. */
const MEMO_LIMIT = 100_000;

/** The backbone as the main thread knows it (the model itself lives in the compute thread). */
export interface BackboneInfo {
  hash: string;
  untrained: boolean;
  description: string;
  ep: string;
  epReason: string;
}

/**
 * What the job handlers share in one runner process: the database, the embeddings cache (the
 * `embeddings` table) and one compute thread that holds the backbone (PLATINA_BACKBONE or the untrained
 * ResNet-34), the execution provider (PLATINA_EP), and runs every onnxruntime session plus the image
 * preprocessing. onnxruntime-node blocks the thread that calls it, so none of that may run on the event
 * loop, which inside `npm start` also serves the API.
 */
export interface RunnerResourcesOptions {
  db: Kysely<DB>;
  logger: Logger;
  /** PLATINA_DATA_DIR: the default image store is <dataDir>/images/<sha256>. */
  dataDir: string;
  /**
   * Where image bytes come from. Default: what PLATINA_IMAGE_STORE names in `env` — the data directory, an S3
   * bucket, or an API instance's URL for a runner that shares neither (lib/image-store).
   */
  images?: ImageSourceReader;
  env?: NodeJS.ProcessEnv;
  /** A compute thread to share (tests run several runners without rebuilding the backbone each time). */
  compute?: ComputeThread;
}

export class RunnerResources {
  readonly db: Kysely<DB>;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly images: ImageSourceReader;
  private readonly ownImages: (ImageSourceReader & { close(): void }) | null;
  readonly env: NodeJS.ProcessEnv;
  readonly inputSize: { height: number; width: number };
  readonly store: DbEmbeddingStore;
  /**
   * Head training epochs when a job does not say: the paper's 50, or PLATINA_EPOCHS (quick demos and
   * tests on a small machine; recorded in every version's settings either way).
   */
  readonly defaultEpochs: number;
  readonly compute: ComputeThread;
  private readonly ownsCompute: boolean;
  private backboneP: Promise<BackboneInfo> | null = null;
  private ready: BackboneInfo | undefined;

  constructor(o: RunnerResourcesOptions) {
    this.db = o.db;
    this.logger = o.logger;
    this.dataDir = o.dataDir;
    this.env = withInputSizeDefault(o.env ?? process.env, o.logger);
    this.ownImages = o.images ? null : openImageSource(parseImageStoreSpec(this.env, o.dataDir, 'runner'));
    this.images = o.images ?? this.ownImages!;
    this.inputSize = parseInputSize(this.env.PLATINA_INPUT_SIZE);
    this.store = new DbEmbeddingStore(o.db);
    this.compute = o.compute ?? new ComputeThread();
    this.ownsCompute = !o.compute;
    const epochs = Number(this.env.PLATINA_EPOCHS ?? 50);
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 500)
      throw new Error(
        `PLATINA_EPOCHS=${this.env.PLATINA_EPOCHS} is invalid: expected an integer from 1 to 500`,
      );
    this.defaultEpochs = epochs;
    this.features = parseFeatureSet(this.env.PLATINA_FEATURES);
  }

  /**
   * What new versions' heads see (PLATINA_FEATURES: paper | evidence | fused, default fused;
   * evidence/features.ts). Validated here, so a runner with a wrong value does not start.
   */
  readonly features: FeatureSet;
  private evidencePool: EvidencePool | null = null;
  private namesP: Promise<string[]> | null = null;

  private pool(): EvidencePool {
    this.evidencePool ??= createEvidencePool();
    return this.evidencePool;
  }

  /**
   * Evidence vectors (EVIDENCE_VERSION) of `images` by sha256, read from `image_evidence`; the missing ones are
   * computed in the evidence worker pool (one image per worker, off the event loop and off the compute thread,
   * so evidence and embeddings run side by side) and stored with their heatmaps. `onProgress(done, total)`
   * counts files. A file that cannot be decoded fails the call (the job's retry and backoff apply).
   */
  async evidence(
    images: readonly Pick<ImageRef, 'sha256'>[],
    opts: {
      onProgress?: (done: number, total: number) => Promise<void>;
      /** Return what could be computed instead of failing; failures are pushed to `failed`. */
      partial?: boolean;
      failed?: string[];
    } = {},
  ): Promise<Map<string, Float32Array>> {
    const failed = opts.failed ?? [];
    const shas = [...new Set(images.map((im) => im.sha256))];
    const out = await evidenceOf(this.db, EVIDENCE_VERSION, shas);
    const missing = shas.filter((sha) => !out.has(sha));
    await opts.onProgress?.(shas.length - missing.length, shas.length);
    const pool = this.pool();
    // Slices of a few images per worker: progress (heartbeat, stop requests) is seen between them.
    const slice = pool.size * 2;
    for (let start = 0; start < missing.length; start += slice) {
      const part = missing.slice(start, start + slice);
      const settled = await Promise.allSettled(
        part.map(async (sha) => {
          const e = await pool.run('evidence', { source: await this.images.source(sha) });
          await putEvidence(this.db, EVIDENCE_VERSION, sha, e.values, e.heatmap);
          this.namesP ??= Promise.resolve(e.names);
          out.set(sha, e.values);
        }),
      );
      settled.forEach((r, k) => {
        if (r.status === 'rejected') failed.push(`${part[k].slice(0, 12)}: ${(r.reason as Error).message}`);
      });
      await opts.onProgress?.(shas.length - missing.length + start + part.length, shas.length);
    }
    // The others are stored: one file the extractor cannot handle does not cost the whole batch.
    if (failed.length > 0 && !opts.partial)
      throw new Error(`evidence failed for ${failed.length} file(s): ${failed.slice(0, 3).join('; ')}`);
    return out;
  }

  /**
   * The names of the evidence values (the same for every image of one EVIDENCE_VERSION; the table stores
   * vectors only): from a computation in this process, or from a small flat image computed once.
   */
  evidenceNames(): Promise<string[]> {
    this.namesP ??= (async () => {
      const px = new Uint16Array(96 * 96).map((_, i) => 20000 + ((i * 7919) % 97));
      const bytes = encodeTiff({ width: 96, height: 96, bitDepth: 16 }, px);
      return (await this.pool().run('evidence', { source: { bytes } })).names;
    })();
    this.namesP.catch(() => (this.namesP = null));
    return this.namesP;
  }

  /** The normal model and every image's unusualness (evidence/unusualness.ts), in the compute thread. */
  unusualness(input: UnusualnessInput): Promise<UnusualnessResult> {
    return this.compute.run('unusualness', input);
  }

  get inputSizeKey(): string {
    return `${this.inputSize.height}x${this.inputSize.width}`;
  }

  backbone(): Promise<BackboneInfo> {
    this.backboneP ??= this.compute.run('backbone', { env: { ...this.env } }).then((b) => {
      this.logger.info(
        { backbone: b.description, hash: b.hash.slice(0, 12), ep: b.ep, why: b.epReason },
        b.untrained
          ? 'backbone: UNTRAINED ResNet-34 (no ImageNet weights; results are not the paper’s)'
          : 'backbone loaded',
      );
      this.ready = b;
      return b;
    });
    this.backboneP.catch(() => (this.backboneP = null));
    return this.backboneP;
  }

  /** The backbone when already loaded; otherwise starts loading it and returns undefined (no waiting). */
  backboneIfReady(): BackboneInfo | undefined {
    void this.backbone().catch((err) => this.logger.error({ err }, 'cannot load the backbone'));
    return this.ready;
  }

  /** Leave-one-bundle-out CV and/or the final model (model-runner/src/cv), in the compute thread. */
  crossValidate(
    input: Omit<CrossValidateInput, 'onProgress'>,
    progress: (p: number, message: string) => void,
  ): Promise<CrossValidateResult> {
    return this.compute.run(
      'crossValidate',
      { ...input, env: { ...this.env } },
      progress,
    ) as Promise<CrossValidateResult>;
  }

  /** P(abnormal) of every image of `table` (unflipped variant), in the compute thread. */
  score(head: HeadParams, table: EmbeddingTable): Promise<Float32Array> {
    return this.compute.run('score', { head, table });
  }

  /** P(type) of every image of `table` with the anomaly-type head, [images × types], in the compute thread. */
  scoreAnomalies(head: HeadParams, table: EmbeddingTable): Promise<Float32Array> {
    return this.compute.run('scoreAnomalies', { head, table });
  }

  /** Abandon the computation in progress when `signal` aborts (the runner is stopping or lost the job). */
  bindAbort(signal: AbortSignal): void {
    signal.addEventListener(
      'abort',
      () => this.compute.abandon(new JobAbandoned('the runner stopped this job')),
      {
        once: true,
      },
    );
  }

  /**
   * Embeddings of `images` for `method`: the flips asked for (default all four, FLIPS order) per image
   * sha256, read from the `embeddings` table; the missing ones are computed (all four flips), stored, and
   * returned. `onProgress(done, total)` counts images.
   */
  async embeddings(
    images: readonly ImageRef[],
    method: Method,
    bounds: Map<8 | 16, StretchBounds>,
    opts: { flips?: readonly number[]; onProgress?: (done: number, total: number) => Promise<void> } = {},
  ): Promise<Map<string, Float32Array[]>> {
    const flips = opts.flips ?? [0, 1, 2, 3];
    const backbone = await this.backbone();
    const byBits = new Map<8 | 16, ImageRef[]>();
    for (const im of images) {
      const list = byBits.get(im.bitDepth);
      if (list) list.push(im);
      else byBits.set(im.bitDepth, [im]);
    }
    const out = new Map<string, Float32Array[]>();
    // Methods 2 and 4 are keyed by the global bounds, which differ per bit depth.
    for (const [bits, group] of byBits) {
      const global = usesGlobalBounds(method) ? bounds.get(bits) : undefined;
      const key = { backboneHash: backbone.hash, inputSize: this.inputSizeKey, method, globalBounds: global };
      const memo = this.memoFor(key);
      const unknown: string[] = [];
      for (const im of group) {
        const m = memo.get(im.sha256);
        if (m && flips.every((f) => m[f]))
          out.set(
            im.sha256,
            flips.map((f) => m[f]!),
          );
        else unknown.push(im.sha256);
      }
      const hits = await this.store.getMany(key, unknown, flips);
      for (const [sha, v] of hits) {
        out.set(sha, v);
        this.remember(memo, sha, flips, v);
      }
    }
    const missing = images.filter((im) => !out.has(im.sha256));
    await opts.onProgress?.(images.length - missing.length, images.length);
    if (missing.length === 0) return out;
    const cachedCount = images.length - missing.length;
    // In slices, so progress (and with it the heartbeat and a stop request) is seen between them.
    for (let start = 0; start < missing.length; start += 8) {
      const slice = missing.slice(start, start + 8);
      // One slice's bytes at a time: a bucket or API source hands bytes, not paths (8 images, ~100 MB at most).
      const items = await Promise.all(
        slice.map(async (im) => ({
          sha256: im.sha256,
          source: await this.images.source(im.sha256),
          conversion: conversionFor(method, im, bounds),
        })),
      );
      const vectors = await this.compute.run('embed', {
        env: { ...this.env },
        inputSize: this.inputSize,
        items,
      });
      for (let k = 0; k < slice.length; k++) {
        const c = items[k].conversion;
        await this.store.put(
          {
            sha256: slice[k].sha256,
            backboneHash: backbone.hash,
            inputSize: this.inputSizeKey,
            method,
            globalBounds: c.method === 2 || c.method === 4 ? c.global : undefined,
          },
          vectors[k],
        );
        out.set(
          slice[k].sha256,
          flips.map((f) => vectors[k][f]),
        );
        this.remember(
          this.memoFor({
            backboneHash: backbone.hash,
            inputSize: this.inputSizeKey,
            method,
            globalBounds: c.method === 2 || c.method === 4 ? c.global : undefined,
          }),
          slice[k].sha256,
          [0, 1, 2, 3],
          vectors[k],
        );
      }
      await opts.onProgress?.(cachedCount + start + slice.length, images.length);
    }
    return out;
  }

  /**
   * In-memory copy of the embeddings this runner has read or computed, per cache key: a retraining reads
   * the same ~2 KB vectors again, and 10 000 images' unflipped vectors are 20 MB. Vectors never change
   * for a key, so the copy cannot go stale; it is dropped whole past MEMO_LIMIT vectors.
   */
  private readonly memo = new Map<string, Map<string, (Float32Array | undefined)[]>>();
  private memoSize = 0;

  private memoFor(key: Omit<EmbeddingKey, 'sha256'>): Map<string, (Float32Array | undefined)[]> {
    const tag = `${key.backboneHash}/${key.inputSize}/${key.method}/${boundsTag(key)}`;
    let m = this.memo.get(tag);
    if (!m) this.memo.set(tag, (m = new Map()));
    return m;
  }

  private remember(
    memo: Map<string, (Float32Array | undefined)[]>,
    sha: string,
    flips: readonly number[],
    vectors: Float32Array[],
  ): void {
    if (this.memoSize + flips.length > MEMO_LIMIT) {
      this.memo.clear();
      this.memoSize = 0;
    }
    let entry = memo.get(sha);
    if (!entry) memo.set(sha, (entry = [undefined, undefined, undefined, undefined]));
    flips.forEach((f, i) => {
      if (!entry[f]) this.memoSize++;
      entry[f] = vectors[i];
    });
  }

  /**
   * Stop the compute thread when it is idle within `waitMs`; a thread still inside onnxruntime is left to
   * the process's exit (killing it there would abort the process).
   */
  async close(waitMs = 5000): Promise<void> {
    await this.evidencePool?.close();
    this.evidencePool = null;
    this.ownImages?.close();
    if (this.ownsCompute) await this.compute.terminate(waitMs);
  }
}

/**
 * The paper's 2000×1000 input costs about 147 GMAC per embedding, four flips per image: hours for a few hundred
 * images on a CPU. Unless PLATINA_INPUT_SIZE is set, the runner takes the paper's size with a GPU provider
 * (PLATINA_EP=webgpu|cuda) and 448×224 otherwise, and logs which. The whole runner (and its compute thread)
 * reads the size from the returned environment, so embeddings, training and export agree on it.
 */
export function withInputSizeDefault(
  env: NodeJS.ProcessEnv,
  logger: { info: (obj: object, msg: string) => void },
): NodeJS.ProcessEnv {
  if (env.PLATINA_INPUT_SIZE?.trim()) return env;
  const gpu = env.PLATINA_EP === 'webgpu' || env.PLATINA_EP === 'cuda';
  const size = gpu ? '2000x1000' : '448x224';
  logger.info(
    { inputSize: size },
    gpu
      ? `input size ${size} (the paper's)`
      : `input size ${size}: the paper's 2000x1000 is unaffordable on a CPU; set PLATINA_INPUT_SIZE (and PLATINA_EP=webgpu) to change it`,
  );
  return { ...env, PLATINA_INPUT_SIZE: size };
}
