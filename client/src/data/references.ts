import type { ApiClient } from './api-client.ts';
import type { ReferenceDto, ReferencesDto } from '../../../lib/api-types/references.ts';

/** Reference images and each expert's accuracy on them (lead, admin). */
export const getReferences = (api: ApiClient, signal?: AbortSignal) =>
  api.get<ReferencesDto>('/api/references', { signal });

export const setReferenceRate = (api: ApiClient, rate: number) =>
  api.put<{ rate: number }>('/api/references/rate', { rate });

export const markReference = (api: ApiClient, imageId: string) =>
  api.put<ReferenceDto>(`/api/images/${encodeURIComponent(imageId)}/reference`);

export const unmarkReference = (api: ApiClient, imageId: string) =>
  api.delete<void>(`/api/images/${encodeURIComponent(imageId)}/reference`);
