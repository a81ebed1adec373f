import type { Services } from '../http/context.ts';
import * as repo from './bundles.repository.ts';
import type { BundleDto } from '../../../lib/api-types/images.ts';

/** Every bundle with its label progress, by name. */
export async function listBundles(services: Services): Promise<BundleDto[]> {
  return (await repo.bundleSummaries(services.db)).map((r) => ({
    name: r.name,
    images: Number(r.images),
    labeled: Number(r.labeled),
    resolved: Number(r.resolved),
    normal: Number(r.normal),
    abnormal: Number(r.abnormal),
  }));
}
