import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../../lib/db/schema.ts';
import type { Method, StretchBounds } from '../../../lib/imaging/conversions.ts';
import { createImagingPool, type ImagingPool } from '../../../lib/imaging/imaging-pool.ts';
import { loadBackbone, parseInputSize, type Backbone } from '../backbone/load.ts';
import { Embedder } from '../embeddings/embedder.ts';
import { selectExecutionProvider, type EpChoice } from '../onnx/ep.ts';
import { DbEmbeddingStore } from './embedding-store.ts';
import { conversionFor, type ImageRef } from './repository.ts';

/**
 * What the job handlers share in one runner process: the database, the backbone (loaded once), the
 * execution provider (PLATINA_EP), one embedder and one imaging worker pool. The pool does decoding,
 * conversion and resizing off the event loop; onnxruntime runs the backbone and the head on its own
 * threads; so the API in the same process (`npm start`, embedded database) stays responsive.
 */
export interface RunnerResourcesOptions {
  db: Kysely<DB>;
  logger: Logger;
  /** PLATINA_DATA_DIR: images are read from <dataDir>/images/<sha256>. */
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Imaging workers (default 1: on a small machine the API keeps a core). */
  poolSize?: number;
}

export class RunnerResources {
  readonly db: Kysely<DB>;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly inputSize: { height: number; width: number };
  readonly store: DbEmbeddingStore;
  private backboneP: Promise<Backbone> | null = null;
  private epP: Promise<EpChoice> | null = null;
  private embedderP: Promise<Embedder> | null = null;
  private pool: ImagingPool | null = null;
  private readonly poolSize: number;

  constructor(o: RunnerResourcesOptions) {
    this.db = o.db;
    this.logger = o.logger;
    this.dataDir = o.dataDir;
    this.env = o.env ?? process.env;
    this.inputSize = parseInputSize(this.env.PLATINA_INPUT_SIZE);
    this.store = new DbEmbeddingStore(o.db);
    this.poolSize = o.poolSize ?? 1;
  }

  get inputSizeKey(): string {
    return `${this.inputSize.height}x${this.inputSize.width}`;
  }

  backbone(): Promise<Backbone> {
    this.backboneP ??= loadBackbone(this.env).then((b) => {
      this.logger.info(
        { backbone: b.description, hash: b.hash.slice(0, 12), untrained: b.untrained },
        b.untrained
          ? 'backbone: UNTRAINED ResNet-34 (no ImageNet weights; results are not the paper’s)'
          : 'backbone loaded',
      );
      return b;
    });
    return this.backboneP;
  }

  ep(): Promise<EpChoice> {
    this.epP ??= selectExecutionProvider(this.env, (m) => this.logger.info(m));
    return this.epP;
  }

  private embedder(): Promise<Embedder> {
    this.embedderP ??= (async () => {
      this.pool ??= createImagingPool({ size: this.poolSize });
      return Embedder.create({
        backbone: await this.backbone(),
        ep: await this.ep(),
        inputSize: this.inputSize,
        store: this.store,
        pool: this.pool,
      });
    })();
    return this.embedderP;
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
    for (const im of images) byBits.set(im.bitDepth, [...(byBits.get(im.bitDepth) ?? []), im]);
    const out = new Map<string, Float32Array[]>();
    // Methods 2 and 4 are keyed by the global bounds, which differ per bit depth.
    for (const [bits, group] of byBits) {
      const global = method === 2 || method === 4 ? bounds.get(bits) : undefined;
      const key = { backboneHash: backbone.hash, inputSize: this.inputSizeKey, method, globalBounds: global };
      const hits = await this.store.getMany(
        key,
        group.map((g) => g.sha256),
        flips,
      );
      for (const [sha, v] of hits) out.set(sha, v);
    }
    const missing = images.filter((im) => !out.has(im.sha256));
    await opts.onProgress?.(images.length - missing.length, images.length);
    if (missing.length === 0) return out;
    const embedder = await this.embedder();
    const cachedCount = images.length - missing.length;
    // In slices, so progress (and with it the heartbeat and a stop request) is seen between them.
    for (let start = 0; start < missing.length; start += 8) {
      const slice = missing.slice(start, start + 8);
      const vectors = await embedder.embed(
        slice.map((im) => ({
          sha256: im.sha256,
          source: { path: path.join(this.dataDir, 'images', im.sha256) },
          conversion: conversionFor(method, im, bounds),
        })),
      );
      slice.forEach((im, k) =>
        out.set(
          im.sha256,
          flips.map((f) => vectors[k][f]),
        ),
      );
      await opts.onProgress?.(cachedCount + start + slice.length, images.length);
    }
    return out;
  }

  async close(): Promise<void> {
    const e = this.embedderP;
    this.embedderP = null;
    await (await e?.catch(() => null))?.close();
    await this.pool?.close();
    this.pool = null;
  }
}
