import { decodeHeatmap, EVIDENCE_VERSION } from '../../../lib/evidence.ts';
import type { HeatmapDto } from '../../../lib/api-types/images.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { assertModelOutputVisible } from '../models/models.service.ts';
import * as repo from './images.repository.ts';

/** Two decimals: far below the noise the values measure (~1 unit), and a third of the JSON of full floats. */
const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * `GET /api/images/:id/heatmap`: the current evidence definition's heatmap of the image. 404 for an unknown
 * image; then the prediction's blind rule (403 for an expert before voting unless model hints are on), checked
 * before anything about the heatmap is looked at, so the 403 says nothing about whether one exists; then 404
 * while the runner has not computed the image's evidence.
 */
export async function getHeatmap(services: Services, user: AuthUser, imageId: string): Promise<HeatmapDto> {
  const row = await repo.imageHeatmap(services.db, imageId, EVIDENCE_VERSION);
  if (!row) throw new AppError('not_found', `no image with id ${imageId}`);
  await assertModelOutputVisible(services, user, imageId, "the image's heatmap");
  if (row.heatmap === null || row.heatmap_width === null || row.heatmap_height === null) {
    throw new AppError(
      'not_found',
      `image ${imageId} has no heatmap yet: the model runner has not computed its evidence (${EVIDENCE_VERSION})`,
    );
  }
  const decoded = decodeHeatmap(row.heatmap, row.heatmap_width, row.heatmap_height);
  // A non-finite cell would become `null` in JSON; the runner never stores one, but a client must never see it.
  const values = Array.from(decoded, (v) => (Number.isFinite(v) ? round2(v) : 0));
  return {
    version: EVIDENCE_VERSION,
    width: row.heatmap_width,
    height: row.heatmap_height,
    values,
    max: values.reduce((m, v) => Math.max(m, v), 0),
  };
}
