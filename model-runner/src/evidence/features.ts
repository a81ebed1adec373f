/**
 * Which features the head sees (`PLATINA_FEATURES`, `npm run cv -- --features`):
 * - `paper`: the ResNet-34 embedding alone — the paper's exact pipeline (Table 1), one setting away;
 * - `evidence`: the evidence vector alone (extract.ts), which does not depend on the conversion method;
 * - `fused` (default): [embedding | evidence], one vector;
 *
 * In both, "evidence" is the image's evidence followed by its copy normalised per bundle, label-free
 * (bundle-normalise.ts: the runner and `npm run cv` do it by default; `--bundle-normalise no` in cv leaves it out); the head's fc0 starts from the backbone's fc on the
 *   embedding's 512 inputs and from He initialisation on the evidence's (head/params.ts), and the head's
 *   per-feature standardisation scales every block as it scales the embedding today.
 *
 * Flips: the four flip variants of an image get the same evidence vector, computed once on the unflipped image.
 * The paper's flips augment what the network sees; the evidence is a fixed description of the image whose pooled
 * statistics do not change under a flip (quantiles, counts, areas, maxima over cells, profile deviations; the
 * scattering block pools its orientations so that a flip permutes channels that are pooled together), so
 * computing it four times would only cost time.
 */
export const FEATURE_SETS = ['paper', 'evidence', 'fused'] as const;
export type FeatureSet = (typeof FEATURE_SETS)[number];
export const DEFAULT_FEATURE_SET: FeatureSet = 'fused';

export function parseFeatureSet(raw: string | undefined, what = 'PLATINA_FEATURES'): FeatureSet {
  const v = raw?.trim().toLowerCase();
  if (!v) return DEFAULT_FEATURE_SET;
  if ((FEATURE_SETS as readonly string[]).includes(v)) return v as FeatureSet;
  throw new Error(`${what}=${raw} is not one of ${FEATURE_SETS.join(', ')}`);
}

export const usesEmbedding = (f: FeatureSet): boolean => f !== 'evidence';
export const usesEvidence = (f: FeatureSet): boolean => f !== 'paper';

/**
 * Rows of the head's input: for each image and flip variant, the embedding (when used) then the image's evidence
 * (when used), as one [images × variants × dim] table.
 */
export function composeFeatures(
  features: FeatureSet,
  images: number,
  variants: number,
  embeddings: { vectors: Float32Array; dim: number } | null,
  evidence: { vectors: Float32Array; dim: number } | null,
): { vectors: Float32Array; dim: number } {
  const e = usesEmbedding(features) ? embeddings : null;
  const v = usesEvidence(features) ? evidence : null;
  if (usesEmbedding(features) && !e) throw new Error(`features ${features} need embeddings`);
  if (usesEvidence(features) && !v) throw new Error(`features ${features} need evidence`);
  const ed = e?.dim ?? 0;
  const vd = v?.dim ?? 0;
  const dim = ed + vd;
  const out = new Float32Array(images * variants * dim);
  for (let i = 0; i < images; i++)
    for (let f = 0; f < variants; f++) {
      const row = (i * variants + f) * dim;
      if (e) out.set(e.vectors.subarray((i * variants + f) * ed, (i * variants + f + 1) * ed), row);
      if (v) out.set(v.vectors.subarray(i * vd, (i + 1) * vd), row + ed);
    }
  return { vectors: out, dim };
}
