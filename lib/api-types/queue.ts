/** The labeling queue (`/api/queue`). */
import type { ImageDto } from './images.ts';

/** The contract's image object plus how long the lease holds the image for the caller. */
export type QueueImageDto = ImageDto & { leaseExpiresInSeconds: number };

/** `GET /api/queue/stats`: what the expert did today and how much is left for them. */
export interface QueueStats {
  votedToday: number;
  remaining: number;
}
