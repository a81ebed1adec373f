import type { ApiClient } from './api-client.ts';
import type {
  BundleDto,
  DatasetStatsDto,
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
