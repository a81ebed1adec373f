import type { ApiClient } from './api-client.ts';
import type { AnomalyType } from '../../../lib/anomaly-types.ts';

export const listAnomalyTypes = (api: ApiClient, signal?: AbortSignal) =>
  api.get<AnomalyType[]>('/api/anomaly-types', { signal });
