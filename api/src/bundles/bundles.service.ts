import type { Services } from '../http/context.ts';
import * as repo from './bundles.repository.ts';

export interface BundleDto {
  name: string;
  images: number;
  /** Images with at least one vote or a lead resolution. */
  labeled: number;
  /** Images whose consensus is decided (`resolved`). */
  resolved: number;
  /** Resolved images by consensus verdict. */
  normal: number;
  abnormal: number;
}

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
