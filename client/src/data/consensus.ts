import type { ApiClient } from './api-client.ts';
import type { AnomalyCode, Consensus, ReviewItem, Verdict } from './types.ts';

const path = (id: string) => `/api/images/${encodeURIComponent(id)}`;

export const getConsensus = (api: ApiClient, imageId: string, signal?: AbortSignal) =>
  api.get<Consensus>(`${path(imageId)}/consensus`, { signal });

export const resolveImage = (
  api: ApiClient,
  imageId: string,
  input: { verdict: Verdict; anomalies: AnomalyCode[]; reason: string },
) => api.put<Consensus>(`${path(imageId)}/resolution`, input);

export const withdrawResolution = (api: ApiClient, imageId: string) =>
  api.delete<void>(`${path(imageId)}/resolution`);

/** The lead's review queue; accepts a bare list or `{items}`. */
export const reviewQueue = (api: ApiClient, signal?: AbortSignal) =>
  api
    .get<ReviewItem[] | { items: ReviewItem[] }>('/api/review/queue', { signal })
    .then((r) => (Array.isArray(r) ? r : r.items));

/** The Dawid–Skene posterior P(abnormal) of a consensus answer, whichever way the server spells it. */
export function posteriorOf(c: Consensus | undefined | null): number | null {
  if (!c) return null;
  if (typeof c.dawidSkene === 'number') return c.dawidSkene;
  if (c.dawidSkene && typeof c.dawidSkene.pAbnormal === 'number') return c.dawidSkene.pAbnormal;
  return typeof c.posterior === 'number' ? c.posterior : null;
}
