/**
 * The embeddings cache: one 512-d vector per image × flip × conversion method × input size ×
 * backbone, computed once (issue step 3). Training draws one of the four cached flip variants per
 * image and epoch, which is exactly the paper's random horizontal/vertical flips (section 2.4,
 * p = 0.5 each: the four variants are equally likely) because the backbone is frozen.
 *
 * The key mirrors the `embeddings` table (sha256, backbone_hash, input_size, method, flip) so a
 * database-backed store can implement the same interface. One addition: methods 2 and 4 depend on
 * the dataset-wide bounds (Gmin, Gmax), which move when images are added; they are part of the key
 * (`globalBounds`) so a stale vector is never served.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { usesGlobalBounds, type Method, type StretchBounds } from '../../../lib/imaging/conversions.ts';

/** Flip variants in storage order; the index is the `flip` column (0 none, 1 h, 2 v, 3 hv). */
export const FLIPS = ['none', 'h', 'v', 'hv'] as const;
export type Flip = (typeof FLIPS)[number];

export interface EmbeddingKey {
  /** sha256 (hex) of the image file's bytes. */
  sha256: string;
  /** sha256 (hex) of the backbone model's bytes. */
  backboneHash: string;
  /** Network input size as `HEIGHTxWIDTH`, e.g. `2000x1000`. */
  inputSize: string;
  method: Method;
  /** Dataset-wide bounds, for methods 2 and 4 (ignored for 1 and 3). */
  globalBounds?: StretchBounds;
}

/** Storage of the four flip vectors of one key. Implemented on files here, on PostgreSQL later. */
export interface EmbeddingStore {
  /** The four vectors (FLIPS order), or undefined when the key is not stored. */
  get(key: EmbeddingKey): Promise<Float32Array[] | undefined>;
  /** Stores the four vectors (FLIPS order); replaces an existing entry. */
  put(key: EmbeddingKey, vectors: Float32Array[]): Promise<void>;
}

/** The conversion part of a key: `m1`, `m3`, or `m2-g1700-28000` when global bounds apply. */
export function conversionTag(key: Pick<EmbeddingKey, 'method' | 'globalBounds'>): string {
  if (usesGlobalBounds(key.method)) {
    if (!key.globalBounds)
      throw new Error(`method ${key.method} embeddings are keyed by the global bounds; none given`);
    return `m${key.method}-g${key.globalBounds.lo}-${key.globalBounds.hi}`;
  }
  return `m${key.method}`;
}

const HEX = /^[0-9a-f]{16,128}$/;

/**
 * File-backed store: `<dir>/<backboneHash>/<inputSize>/<conversion>/<sha256>.f32`, each file the
 * four flip vectors as little-endian float32 (4 × dim). Writes go to a temporary file and are
 * renamed into place, so a killed process never leaves a half-written vector behind.
 */
export class FileEmbeddingStore implements EmbeddingStore {
  constructor(
    readonly dir: string,
    readonly dim = 512,
  ) {}

  private file(key: EmbeddingKey): string {
    for (const [name, v] of [
      ['sha256', key.sha256],
      ['backboneHash', key.backboneHash],
    ] as const) {
      if (!HEX.test(v))
        throw new Error(`embedding key ${name} must be a hex digest, got ${JSON.stringify(v)}`);
    }
    if (!/^\d+x\d+$/.test(key.inputSize))
      throw new Error(`embedding key inputSize must be HxW, got ${JSON.stringify(key.inputSize)}`);
    return path.join(this.dir, key.backboneHash, key.inputSize, conversionTag(key), `${key.sha256}.f32`);
  }

  async get(key: EmbeddingKey): Promise<Float32Array[] | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (bytes.length !== FLIPS.length * this.dim * 4) return undefined; // foreign or truncated: recompute
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    return FLIPS.map((_, i) => all.subarray(i * this.dim, (i + 1) * this.dim));
  }

  async put(key: EmbeddingKey, vectors: Float32Array[]): Promise<void> {
    if (vectors.length !== FLIPS.length || vectors.some((v) => v.length !== this.dim)) {
      throw new Error(
        `expected ${FLIPS.length} vectors of ${this.dim}, got ${vectors.map((v) => v.length).join(', ')}`,
      );
    }
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const all = new Float32Array(FLIPS.length * this.dim);
    vectors.forEach((v, i) => all.set(v, i * this.dim));
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, new Uint8Array(all.buffer));
    await rename(tmp, file);
  }
}

/** In-memory store (tests, one-off runs). */
export class MemoryEmbeddingStore implements EmbeddingStore {
  private readonly map = new Map<string, Float32Array[]>();
  private id(key: EmbeddingKey): string {
    return [key.backboneHash, key.inputSize, conversionTag(key), key.sha256].join('/');
  }
  async get(key: EmbeddingKey): Promise<Float32Array[] | undefined> {
    return this.map.get(this.id(key))?.map((v) => v.slice());
  }
  async put(key: EmbeddingKey, vectors: Float32Array[]): Promise<void> {
    this.map.set(
      this.id(key),
      vectors.map((v) => v.slice()),
    );
  }
}
