import type { ApiClient } from './api-client.ts';
import type { JobDto } from '../../../lib/api-types/jobs.ts';
import type { ModelDto, PredictionDto } from '../../../lib/api-types/models.ts';
import type { Method } from '../../../lib/domain.ts';

export const listModels = (api: ApiClient, signal?: AbortSignal) =>
  api.get<ModelDto[]>('/api/models', { signal });

export const trainModel = (api: ApiClient, input: { method?: Method; crossValidate?: boolean }) =>
  api.post<{ jobId: string }>('/api/models/train', input);

export const getJob = (api: ApiClient, id: string, signal?: AbortSignal) =>
  api.get<JobDto>(`/api/jobs/${encodeURIComponent(id)}`, { signal });

/**
 * Recent jobs for the progress bars (`GET /api/jobs`; leads and admins). A refusal is an error, never an empty
 * list: "no jobs" must mean there are none.
 */
export const listJobs = (api: ApiClient, signal?: AbortSignal) =>
  api.get<JobDto[]>('/api/jobs', { query: { limit: 10 }, signal });

/**
 * The words every screen puts beside a model's numbers or hints when the model rests on the untrained backbone
 * (the offline ResNet-34 without ImageNet weights): its scores are not the paper's. Null otherwise.
 */
export function backboneCaveat(model: Pick<ModelDto, 'backbone'> | undefined | null): string | null {
  return model?.backbone.untrained ? 'untrained backbone' : null;
}

/**
 * `GET /api/images/:id/prediction`: P(abnormal), priority and reason, and P(type) of each anomaly type. Blind to an
 * expert who has not voted on the image unless the installation enables model hints (403 then).
 */
export const getPrediction = (api: ApiClient, imageId: string, signal?: AbortSignal) =>
  api.get<PredictionDto>(`/api/images/${encodeURIComponent(imageId)}/prediction`, { signal });
