import type { ApiClient } from './api-client.ts';

/** Starts the demo loader (`POST /api/demo`, an addition to the contract): synthetic images, users, first votes. */
export const loadDemo = (api: ApiClient) =>
  api.post<{ jobId?: string; message?: string } | undefined>('/api/demo', {});
