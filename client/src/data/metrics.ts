import type { ApiClient } from './api-client.ts';
import type { Agreement } from './types.ts';

export const getAgreement = (api: ApiClient, bundle?: string, signal?: AbortSignal) =>
  api.get<Agreement>('/api/metrics/agreement', { query: { bundle }, signal });
