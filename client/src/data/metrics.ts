import type { ApiClient } from './api-client.ts';
import type { AgreementDto } from '../../../lib/api-types/metrics.ts';

export const getAgreement = (api: ApiClient, bundle?: string, signal?: AbortSignal) =>
  api.get<AgreementDto>('/api/metrics/agreement', { query: { bundle }, signal });
