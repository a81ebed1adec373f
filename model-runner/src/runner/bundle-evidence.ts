import { applyBundleNormalisers, fitBundleNormalisers } from '../evidence/bundle-normalise.ts';
import * as repo from './repository.ts';
import type { ImageRef } from './repository.ts';
import type { RunnerResources } from './resources.ts';

/**
 * The evidence rows the head sees for `images`: each image's evidence, then its copy normalised by its bundle
 * (evidence/bundle-normalise.ts), with the bundle normalisers fitted on EVERY stored image of those bundles,
 * labeled or not — label-free, so training and scoring see a bundle the same way, and a bundle that has no
 * label yet is normalised as well as any. Missing evidence is computed on the way (the `evidence` job has
 * usually stored it); an image of `images` whose evidence cannot be computed fails the call.
 *
 * Cost: reads the evidence of every image of the bundles involved (about 1.2 kB an image).
 */
export async function bundleNormalisedEvidence(
  res: RunnerResources,
  images: readonly ImageRef[],
  onProgress?: (done: number, total: number) => Promise<void>,
): Promise<{ vectors: Float32Array; dim: number }> {
  const wanted = new Set(images.map((im) => im.bundle));
  const all = (await repo.imagesById(res.db)).filter((im) => wanted.has(im.bundle));
  const vectors = await res.evidence(all, { partial: true, onProgress });
  const rows = (list: readonly ImageRef[]) => {
    const dim = vectors.get(list[0]?.sha256 ?? '')?.length ?? 0;
    const out = new Float32Array(list.length * dim);
    list.forEach((im, i) => {
      const v = vectors.get(im.sha256);
      if (!v) throw new Error(`no evidence for image ${im.id}`);
      if (v.length !== dim) throw new Error(`evidence of image ${im.id} has ${v.length} values, not ${dim}`);
      out.set(v, i * dim);
    });
    return { vectors: out, dim };
  };
  const have = all.filter((im) => vectors.has(im.sha256));
  const fit = rows(have);
  const normalisers = fitBundleNormalisers(
    fit.vectors,
    fit.dim,
    have.map((im) => im.bundle),
  );
  const mine = rows(images);
  return {
    vectors: applyBundleNormalisers(
      mine.vectors,
      mine.dim,
      images.map((im) => im.bundle),
      normalisers,
    ),
    dim: 2 * mine.dim,
  };
}
