import type { Transaction } from 'kysely';
import type { DB, Exec } from '../../../lib/db/schema.ts';
import type { Heatmap } from '../evidence/extract.ts';

const toBytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
/** A copy: a pooled Buffer's offset need not be 4-aligned, and the vector outlives the row. */
const toVector = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/**
 * Evidence vectors of some image files under one evidence definition, by sha256 (1000 files a statement).
 * Files without a row are absent.
 */
export async function evidenceOf(
  db: Exec,
  version: string,
  shas: readonly string[],
): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const unique = [...new Set(shas)];
  for (let start = 0; start < unique.length; start += 1000) {
    const rows = await db
      .selectFrom('image_evidence')
      .select(['sha256', 'vector'])
      .where('version', '=', version)
      .where('sha256', 'in', unique.slice(start, start + 1000))
      .execute();
    for (const r of rows) out.set(r.sha256, toVector(r.vector));
  }
  return out;
}

/** Stores one file's evidence vector (float32 little-endian) and heatmap; a recomputation replaces it. */
export async function putEvidence(
  db: Exec,
  version: string,
  sha256: string,
  values: Float32Array,
  heatmap: Heatmap,
): Promise<void> {
  const row = {
    sha256,
    version,
    vector: toBytes(values),
    heatmap: toBytes(heatmap.data),
    heatmap_width: heatmap.width,
    heatmap_height: heatmap.height,
  };
  await db
    .insertInto('image_evidence')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['version', 'sha256']).doUpdateSet((eb) => ({
        vector: eb.ref('excluded.vector'),
        heatmap: eb.ref('excluded.heatmap'),
        heatmap_width: eb.ref('excluded.heatmap_width'),
        heatmap_height: eb.ref('excluded.heatmap_height'),
      })),
    )
    .execute();
}

export interface UnusualnessRow {
  image_id: string;
  score: number;
  bundle_percentile: number;
  reason: string;
}

/**
 * Replaces the unusualness of the given images (current state, derived from the stored evidence: a refit
 * rewrites it whole), 1000 rows a statement; images of the table not among `rows` are removed, so an image
 * whose evidence could not be scored never keeps a stale score.
 */
export async function replaceUnusualness(
  tx: Transaction<DB>,
  version: string,
  rows: readonly UnusualnessRow[],
): Promise<void> {
  await tx.deleteFrom('image_unusualness').execute();
  for (let start = 0; start < rows.length; start += 1000) {
    await tx
      .insertInto('image_unusualness')
      .values(rows.slice(start, start + 1000).map((r) => ({ ...r, version })))
      .execute();
  }
}

/** Unusualness of some images as its bundle percentile in [0, 1] (the priority's term), by image id. */
export async function unusualnessOf(db: Exec, ids?: readonly string[]): Promise<Map<string, number>> {
  let q = db.selectFrom('image_unusualness').select(['image_id', 'bundle_percentile']);
  if (ids) {
    if (ids.length === 0) return new Map();
    q = q.where('image_id', 'in', ids as string[]);
  }
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.image_id, r.bundle_percentile / 100]));
}
