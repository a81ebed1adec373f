import type { AuthUser, Services } from '../http/context.ts';
import * as repo from './bundles.repository.ts';
import type { BundleDto } from '../../../lib/api-types/images.ts';

/**
 * Every bundle with its label progress over its included images, by name (excluded images counted apart). Verdict counts (normal / abnormal) only for the roles
 * that see consensus anyway: to an expert they would reveal the consensus of images not yet voted on.
 */
export async function listBundles(services: Services, user: AuthUser): Promise<BundleDto[]> {
  const verdicts = user.role !== 'expert';
  return (await repo.bundleSummaries(services.db)).map((r) => ({
    name: r.name,
    images: Number(r.images),
    excluded: Number(r.excluded),
    labeled: Number(r.labeled),
    resolved: Number(r.resolved),
    normal: verdicts ? Number(r.normal) : null,
    abnormal: verdicts ? Number(r.abnormal) : null,
  }));
}
