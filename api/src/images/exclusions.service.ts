import type { AuthUser, Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { imageExists } from '../consensus/consensus.repository.ts';
import * as repo from './exclusions.repository.ts';
import { getImage } from './images.service.ts';
import type { ExclusionEventDto, ImageDto } from '../../../lib/api-types/images.ts';

/**
 * `PUT /api/images/:id/exclusion` (lead, admin): exclude an image with a reason — a wrong upload, or an image
 * that is not an electrode. From the commit on it is out of the queue, the statistics, the dataset bounds and
 * the runner's training and scoring; its votes and consensus stay in the history (votes are append-only) and
 * count again once it is restored. The action is appended to the exclusion history (the audit trail).
 * 404 for no such image, 409 when it is excluded already.
 */
export async function excludeImage(
  services: Services,
  user: AuthUser,
  imageId: string,
  reason: string,
): Promise<ImageDto> {
  await services.db.transaction().execute(async (tx) => {
    const row = await repo.lockImageForExclusion(tx, imageId);
    if (!row) throw new AppError('not_found', `no image with id ${imageId}`);
    if (row.excluded) throw new AppError('conflict', `image ${imageId} is excluded already`);
    await repo.insertExclusion(tx, { imageId, userId: user.id, action: 'exclude', reason });
    await repo.dropLeases(tx, imageId);
  });
  services.labelsChanged(); // the training set may have lost a label: the runner's retrain count looks again
  return getImage(services, user, imageId);
}

/**
 * `DELETE /api/images/:id/exclusion` (lead, admin): restore an excluded image — back in the queue (if it still
 * needs votes), the statistics, the bounds and training, with the votes it had. Appended to the history.
 * 404 for no such image, 409 when it is not excluded.
 */
export async function restoreImage(
  services: Services,
  user: AuthUser,
  imageId: string,
  reason: string | null,
): Promise<ImageDto> {
  await services.db.transaction().execute(async (tx) => {
    const row = await repo.lockImageForExclusion(tx, imageId);
    if (!row) throw new AppError('not_found', `no image with id ${imageId}`);
    if (!row.excluded) throw new AppError('conflict', `image ${imageId} is not excluded`);
    await repo.insertExclusion(tx, { imageId, userId: user.id, action: 'restore', reason });
  });
  services.labelsChanged();
  return getImage(services, user, imageId);
}

/** `GET /api/images/:id/exclusions` (lead, admin): every exclude and restore of the image, oldest first. */
export async function listExclusions(services: Services, imageId: string): Promise<ExclusionEventDto[]> {
  if (!(await imageExists(services.db, imageId)))
    throw new AppError('not_found', `no image with id ${imageId}`);
  return (await repo.exclusionHistory(services.db, imageId)).map((r) => ({
    id: r.id,
    action: r.action,
    reason: r.reason,
    by: r.username,
    at: r.created_at.toISOString(),
  }));
}
