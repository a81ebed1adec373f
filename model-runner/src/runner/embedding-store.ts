import type { Kysely } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';
import { FLIPS, type EmbeddingKey, type EmbeddingStore } from '../embeddings/cache.ts';

/** The `bounds` column: the global bounds for methods 2 and 4, '' for 1 and 3 (see the migration). */
export function boundsTag(key: Pick<EmbeddingKey, 'method' | 'globalBounds'>): string {
  if (key.method !== 2 && key.method !== 4) return '';
  if (!key.globalBounds)
    throw new Error(`method ${key.method} embeddings are keyed by the global bounds; none given`);
  return `g${key.globalBounds.lo}-${key.globalBounds.hi}`;
}

const toBytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const toVector = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/**
 * The embeddings cache in the `embeddings` table: four rows (one per flip) per image × backbone × input
 * size × conversion. Shared by every runner on one PostgreSQL, so a GPU worker's embeddings serve the
 * CPU runner's retraining. `getMany` reads a whole training or scoring set in one query per 1000 images.
 */
export class DbEmbeddingStore implements EmbeddingStore {
  constructor(
    private readonly db: Kysely<DB>,
    readonly dim = 512,
  ) {}

  async get(key: EmbeddingKey): Promise<Float32Array[] | undefined> {
    return (await this.getMany(key, [key.sha256])).get(key.sha256);
  }

  /**
   * Vectors of many images under one key (everything but sha256 taken from `key`). `flips` picks the
   * variants (default all four, FLIPS order); images lacking any of them are absent from the result.
   */
  async getMany(
    key: Omit<EmbeddingKey, 'sha256'>,
    shas: readonly string[],
    flips: readonly number[] = [0, 1, 2, 3],
  ): Promise<Map<string, Float32Array[]>> {
    const out = new Map<string, Float32Array[]>();
    for (let start = 0; start < shas.length; start += 1000) {
      const chunk = shas.slice(start, start + 1000);
      const rows = await this.db
        .selectFrom('embeddings')
        .select(['sha256', 'flip', 'vector'])
        .where('backbone_hash', '=', key.backboneHash)
        .where('input_size', '=', key.inputSize)
        .where('method', '=', key.method)
        .where('bounds', '=', boundsTag(key))
        .where('sha256', 'in', chunk)
        .where('flip', 'in', flips as (0 | 1 | 2 | 3)[])
        .execute();
      const partial = new Map<string, Float32Array[]>();
      for (const r of rows) {
        const v = toVector(r.vector);
        if (v.length !== this.dim) continue; // foreign or truncated: recompute
        let list = partial.get(r.sha256);
        if (!list) partial.set(r.sha256, (list = new Array(flips.length)));
        list[flips.indexOf(r.flip)] = v;
      }
      for (const [sha, list] of partial) {
        if (list.filter(Boolean).length === flips.length) out.set(sha, list);
      }
    }
    return out;
  }

  /** Stores the four vectors (FLIPS order) in one statement; an existing entry is replaced. */
  async put(key: EmbeddingKey, vectors: Float32Array[]): Promise<void> {
    if (vectors.length !== FLIPS.length || vectors.some((v) => v.length !== this.dim)) {
      throw new Error(
        `expected ${FLIPS.length} vectors of ${this.dim}, got ${vectors.map((v) => v.length).join(', ')}`,
      );
    }
    await this.db
      .insertInto('embeddings')
      .values(
        vectors.map((v, flip) => ({
          sha256: key.sha256,
          backbone_hash: key.backboneHash,
          input_size: key.inputSize,
          method: key.method,
          bounds: boundsTag(key),
          flip: flip as 0 | 1 | 2 | 3,
          vector: toBytes(v),
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['backbone_hash', 'input_size', 'method', 'bounds', 'sha256', 'flip'])
          .doUpdateSet((eb) => ({ vector: eb.ref('excluded.vector') })),
      )
      .execute();
  }
}
