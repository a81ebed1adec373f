/**
 * What the head can do on these embeddings at all: trained on the WHOLE pool with the TRUE verdicts (no label
 * errors, no label budget), scored on the held-out bundles — with the runner's defaults (what the replay trains
 * with) and, for comparison, with the procedure before the head was conditioned (plain SGD on the raw embeddings,
 * no class weights: model-runner/src/head/standardize.ts says why that collapses to one class). It bounds what any
 * ordering can reach.
 */
import type { EmbeddingTable } from '../../model-runner/src/head/train.ts';
import { scoreImages, trainHead } from '../../model-runner/src/head/train.ts';
import { heldOutScore } from './replay.ts';

/** Head options of each compared procedure (everything else: the runner's defaults). */
export const CEILING_PROCEDURES = {
  unconditioned: { standardize: false, classWeights: null },
  default: {},
} as const;

export interface CeilingRow {
  heldOutBundles: string[];
  procedure: keyof typeof CEILING_PROCEDURES;
  trainImages: number;
  balancedAccuracy: number;
  heldOut: { tp: number; fp: number; tn: number; fn: number };
}

export async function ceiling(
  data: { bundles: string[]; truth: Uint8Array; table: EmbeddingTable },
  heldOutSets: readonly (readonly string[])[],
  options: { epochs: number; threads?: number; seed: number },
): Promise<CeilingRow[]> {
  const rows: CeilingRow[] = [];
  for (const set of heldOutSets) {
    const all = data.bundles.map((_, i) => i);
    const heldOut = all.filter((i) => set.includes(data.bundles[i]));
    const pool = all.filter((i) => !set.includes(data.bundles[i]));
    for (const procedure of ['unconditioned', 'default'] as const) {
      const { params } = await trainHead(data.table, data.truth, pool, {
        seed: options.seed,
        epochs: options.epochs,
        threads: options.threads,
        ...CEILING_PROCEDURES[procedure],
      });
      const s = heldOutScore(data.truth, await scoreImages(params, data.table), heldOut);
      rows.push({
        heldOutBundles: [...set],
        procedure,
        trainImages: pool.length,
        balancedAccuracy: s.balancedAccuracy,
        heldOut: s.confusion,
      });
    }
  }
  return rows;
}
