import type { ApiClient } from './api-client.ts';
import type { AnomalyCode } from '../../../lib/anomaly-types.ts';
import type { ConsensusDto, ReviewItem } from '../../../lib/api-types/consensus.ts';
import type { Verdict } from '../../../lib/api-types/votes.ts';

const path = (id: string) => `/api/images/${encodeURIComponent(id)}`;

export const getConsensus = (api: ApiClient, imageId: string, signal?: AbortSignal) =>
  api.get<ConsensusDto>(`${path(imageId)}/consensus`, { signal });

export const resolveImage = (
  api: ApiClient,
  imageId: string,
  input: { verdict: Verdict; anomalies: AnomalyCode[]; reason: string },
) => api.put<ConsensusDto>(`${path(imageId)}/resolution`, input);

export const withdrawResolution = (api: ApiClient, imageId: string) =>
  api.delete<void>(`${path(imageId)}/resolution`);

/** The lead's review queue. */
export const reviewQueue = (api: ApiClient, signal?: AbortSignal) =>
  api.get<ReviewItem[]>('/api/review/queue', { signal });

/** The Dawid–Skene posterior P(abnormal) of a consensus answer (leads and admins get it), else null. */
export const posteriorOf = (c: ConsensusDto | undefined | null): number | null =>
  c?.dawidSkene?.pAbnormal ?? null;
