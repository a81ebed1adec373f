import type { ApiClient } from './api-client.ts';
import type { Job, ModelVersion } from './types.ts';

export const listModels = (api: ApiClient, signal?: AbortSignal) =>
  api.get<ModelVersion[]>('/api/models', { signal });

export const trainModel = (api: ApiClient, input: { method?: 1 | 2 | 3 | 4; crossValidate?: boolean }) =>
  api.post<{ jobId: string }>('/api/models/train', input);

export const getJob = (api: ApiClient, id: string, signal?: AbortSignal) =>
  api.get<Job>(`/api/jobs/${encodeURIComponent(id)}`, { signal });

/** Recent jobs for the progress bars (`GET /api/jobs`, an addition); an empty list when the server lacks it. */
export const listJobs = (api: ApiClient, signal?: AbortSignal) =>
  api
    .get<Job[] | { items: Job[] }>('/api/jobs', { query: { limit: 10 }, signal })
    .then((r) => (Array.isArray(r) ? r : r.items))
    .catch(() => [] as Job[]);
