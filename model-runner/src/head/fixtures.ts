import { createRandom } from './random.ts';
import { FLIP_VARIANTS } from './train.ts';
import type { EmbeddingTable } from './train.ts';

/** Test fixtures for the head and cross-validation. */

/**
 * A toy embedding set: abnormal images have a raised mean on the first 64 features; the four flip variants of
 * an image are small perturbations of one vector, as a frozen backbone's flipped embeddings are.
 */
export function toyEmbeddings(images: number, seed: number): { table: EmbeddingTable; labels: Uint8Array } {
  const random = createRandom(seed);
  const dim = 512;
  const labels = Uint8Array.from({ length: images }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const vectors = new Float32Array(images * FLIP_VARIANTS * dim);
  for (let i = 0; i < images; i++) {
    const base = Float32Array.from(
      { length: dim },
      (_, d) => Math.abs(random.normal()) + (labels[i] && d < 64 ? 3 : 0),
    );
    for (let v = 0; v < FLIP_VARIANTS; v++)
      for (let d = 0; d < dim; d++)
        vectors[(i * FLIP_VARIANTS + v) * dim + d] = base[d] * (1 + 0.05 * random.normal());
  }
  return { table: { vectors, images, variants: FLIP_VARIANTS, dim }, labels };
}
