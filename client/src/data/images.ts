import { ApiError, type ApiClient } from './api-client.ts';
import type {
  BundleDto,
  DatasetStatsDto,
  HeatmapDto,
  ImageDto,
  ImageStatus,
  Page,
} from '../../../lib/api-types/images.ts';

const path = (id: string) => `/api/images/${encodeURIComponent(id)}`;

export const getImage = (api: ApiClient, id: string, signal?: AbortSignal) =>
  api.get<ImageDto>(path(id), { signal });

/** The original TIFF bytes, for client-side decoding and window/level. */
export const getRawImage = (api: ApiClient, id: string, signal?: AbortSignal) =>
  api.get<ArrayBuffer>(`${path(id)}/raw`, { signal, as: 'arrayBuffer', headers: { accept: 'image/tiff' } });

export const listImages = (
  api: ApiClient,
  q: { bundle?: string; status?: ImageStatus; limit?: number; cursor?: string },
  signal?: AbortSignal,
) => api.get<Page<ImageDto>>('/api/images', { query: q, signal });

export const listBundles = (api: ApiClient, signal?: AbortSignal) =>
  api.get<BundleDto[]>('/api/bundles', { signal });

export const getDatasetStats = (api: ApiClient, signal?: AbortSignal) =>
  api.get<DatasetStatsDto>('/api/dataset/stats', { signal });

/**
 * `GET /api/images/:id/heatmap`: where the evidence is strongest; null when the image has none yet (404) or the
 * caller may not see it (403: blind like the prediction, for an expert before voting while model hints are off).
 */
export async function getHeatmap(
  api: ApiClient,
  id: string,
  signal?: AbortSignal,
): Promise<ImageHeatmap | null> {
  try {
    return { imageId: id, ...(await api.get<HeatmapDto>(`${path(id)}/heatmap`, { signal })) };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return null;
    throw err;
  }
}

/** A heatmap with the image it belongs to, so a viewer never lays one image's heatmap over another. */
export interface ImageHeatmap extends HeatmapDto {
  imageId: string;
}
