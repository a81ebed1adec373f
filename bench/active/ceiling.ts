/**
 * What the head can do on these embeddings at all: trained on the WHOLE pool with the TRUE verdicts (no label
 * errors, no label budget), scored on the held-out bundles — on the raw embeddings and on the standardized ones
 * the replay uses. It bounds what any ordering can reach, and shows why the replay standardizes (data.ts).
 */
import type { EmbeddingTable } from '../../model-runner/src/head/train.ts';
import { scoreImages, trainHead } from '../../model-runner/src/head/train.ts';
import { heldOutScore } from './replay.ts';

export interface CeilingRow {
  heldOutBundles: string[];
  features: 'raw' | 'standardized';
  trainImages: number;
  balancedAccuracy: number;
  heldOut: { tp: number; fp: number; tn: number; fn: number };
}

export async function ceiling(
  data: { bundles: string[]; truth: Uint8Array; table: EmbeddingTable; rawTable: EmbeddingTable },
  heldOutSets: readonly (readonly string[])[],
  options: { epochs: number; threads?: number; seed: number },
): Promise<CeilingRow[]> {
  const rows: CeilingRow[] = [];
  for (const set of heldOutSets) {
    const all = data.bundles.map((_, i) => i);
    const heldOut = all.filter((i) => set.includes(data.bundles[i]));
    const pool = all.filter((i) => !set.includes(data.bundles[i]));
    for (const [features, table] of [
      ['raw', data.rawTable],
      ['standardized', data.table],
    ] as const) {
      const { params } = await trainHead(table, data.truth, pool, {
        seed: options.seed,
        epochs: options.epochs,
        threads: options.threads,
      });
      const s = heldOutScore(data.truth, await scoreImages(params, table), heldOut);
      rows.push({
        heldOutBundles: [...set],
        features,
        trainImages: pool.length,
        balancedAccuracy: s.balancedAccuracy,
        heldOut: s.confusion,
      });
    }
  }
  return rows;
}
