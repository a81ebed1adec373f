import type { Kysely } from 'kysely';
import type { DB } from '../../lib/db/schema.ts';
import { EVIDENCE_VERSION } from '../../lib/evidence.ts';

/**
 * Test factory: the `image_evidence` row the model runner would store for an image's file — a heatmap of
 * `width × height` cells (row-major, noise units) and a small evidence vector — written straight to the
 * database, keyed by the image's sha256 like the runner's. `version` defaults to the current definition.
 */
export async function buildEvidence(
  db: Kysely<DB>,
  imageId: string,
  heatmap: { width: number; height: number; values: ArrayLike<number> },
  version = EVIDENCE_VERSION,
): Promise<void> {
  if (heatmap.values.length !== heatmap.width * heatmap.height)
    throw new Error(
      `a ${heatmap.width}×${heatmap.height} heatmap needs ${heatmap.width * heatmap.height} values`,
    );
  const { sha256 } = await db
    .selectFrom('images')
    .select('sha256')
    .where('id', '=', imageId)
    .executeTakeFirstOrThrow();
  await db
    .insertInto('image_evidence')
    .values({
      sha256,
      version,
      vector: Buffer.from(new Float32Array([0, 0, 0, 0]).buffer),
      heatmap: Buffer.from(Float32Array.from(heatmap.values).buffer), // float32 LE on every platform we run
      heatmap_width: heatmap.width,
      heatmap_height: heatmap.height,
    })
    .execute();
}

/**
 * A heatmap of ordinary noise (~1 unit) with one hot rectangle of cells `[x0, x1) × [y0, y1)` at `hot` units:
 * a planted defect whose place the test knows.
 */
export function plantedHeatmap(
  width: number,
  height: number,
  hot: { x0: number; y0: number; x1: number; y1: number; value: number },
): number[] {
  return Array.from({ length: width * height }, (_, i) => {
    const x = i % width;
    const y = Math.floor(i / width);
    const inside = x >= hot.x0 && x < hot.x1 && y >= hot.y0 && y < hot.y1;
    return inside ? hot.value : 0.5 + 0.5 * (((x * 7 + y * 13) % 5) / 4);
  });
}
