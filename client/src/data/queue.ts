import type { ApiClient } from './api-client.ts';
import type { QueueImageDto, QueueStats, UpcomingQueue } from '../../../lib/api-types/queue.ts';

export type { QueueStats };

/**
 * The next image to label, or null when the queue is empty (204). `exclude` names images the client already
 * holds (the current one, prefetched ones, votes still in the outbox), so the server hands out the one after
 * them: that is how the client prefetches "the next images of the queue" with a one-image endpoint.
 */
export const nextInQueue = (api: ApiClient, exclude: string[] = [], signal?: AbortSignal) =>
  api
    .get<QueueImageDto | undefined>('/api/queue/next', { query: { exclude }, signal })
    .then((r) => r ?? null);

/** Progress for the labeling page; null when it could not be read (the page then shows none). */
export const queueStats = (api: ApiClient, signal?: AbortSignal) =>
  api.get<QueueStats>('/api/queue/stats', { signal }).catch(() => null);

/** `GET /api/queue/upcoming` (lead, admin): the queue's next images and why each stands where it does. */
export const upcomingQueue = (api: ApiClient, limit: number, signal?: AbortSignal) =>
  api.get<UpcomingQueue>('/api/queue/upcoming', { query: { limit }, signal });
