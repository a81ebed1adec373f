import { ApiError, type ApiClient } from './api-client.ts';
import type {
  BundleDto,
  DatasetStatsDto,
  ExclusionEventDto,
  HeatmapDto,
  ImageDto,
  ImageStatus,
  Page,
  UploadedImageDto,
} from '../../../lib/api-types/images.ts';

const path = (id: string) => `/api/images/${encodeURIComponent(id)}`;

export const getImage = (api: ApiClient, id: string, signal?: AbortSignal) =>
  api.get<ImageDto>(path(id), { signal });

/** The original TIFF bytes, for client-side decoding and window/level. */
export const getRawImage = (api: ApiClient, id: string, signal?: AbortSignal) =>
  api.get<ArrayBuffer>(`${path(id)}/raw`, { signal, as: 'arrayBuffer', headers: { accept: 'image/tiff' } });

export const listImages = (
  api: ApiClient,
  q: {
    bundle?: string;
    status?: ImageStatus;
    sha256?: string;
    excluded?: boolean;
    limit?: number;
    cursor?: string;
  },
  signal?: AbortSignal,
) => api.get<Page<ImageDto>>('/api/images', { query: q, signal });

export const listBundles = (api: ApiClient, signal?: AbortSignal) =>
  api.get<BundleDto[]>('/api/bundles', { signal });

export const getDatasetStats = (api: ApiClient, signal?: AbortSignal) =>
  api.get<DatasetStatsDto>('/api/dataset/stats', { signal });

/** Pins method 2's bounds of a bit depth (lead, admin); answers the stats with them in force. */
export const pinBounds = (api: ApiClient, bitDepth: 8 | 16, globalMin: number, globalMax: number) =>
  api.put<DatasetStatsDto>('/api/dataset/bounds', { bitDepth, globalMin, globalMax });

/** Unpins them: the bounds follow the included images again. */
export const unpinBounds = (api: ApiClient, bitDepth: 8 | 16) =>
  api.delete<DatasetStatsDto>(`/api/dataset/bounds/${bitDepth}`, { as: 'json' });

/** Uploads one TIFF into `bundle` (created on first use), reporting bytes sent. */
export const uploadImage = (
  api: ApiClient,
  bundle: string,
  file: File,
  onProgress?: (sent: number, total: number) => void,
  signal?: AbortSignal,
) =>
  api.send<UploadedImageDto>('POST', '/api/images', file, {
    query: { bundle, name: file.name },
    onProgress,
    signal,
  });

/** Excludes an image with a reason (lead, admin). */
export const excludeImage = (api: ApiClient, id: string, reason: string) =>
  api.put<ImageDto>(`${path(id)}/exclusion`, { reason });

/** Restores an excluded image (lead, admin). */
export const restoreImage = (api: ApiClient, id: string) =>
  api.delete<ImageDto>(`${path(id)}/exclusion`, { as: 'json' });

/** Every exclude and restore of an image, oldest first (lead, admin). */
export const exclusionHistory = (api: ApiClient, id: string, signal?: AbortSignal) =>
  api.get<ExclusionEventDto[]>(`${path(id)}/exclusions`, { signal });

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
