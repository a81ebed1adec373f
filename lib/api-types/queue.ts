/** The labeling queue (`/api/queue`). */
import type { ImageDto } from './images.ts';

/** The contract's image object plus how long the lease holds the image for the caller. */
export type QueueImageDto = ImageDto & { leaseExpiresInSeconds: number };

/** `GET /api/queue/stats`: what the expert did today and how much is left for them. */
export interface QueueStats {
  votedToday: number;
  remaining: number;
}

/**
 * Why an image stands where it does in the queue, in the queue's own order of orderings: the active model's
 * priority; images already started (votes, not decided); before the first model, unusualness from the evidence
 * alone (zero labels); then fresh images, bundles in turn.
 */
export type UpcomingSource = 'model' | 'started' | 'unusualness' | 'fresh';

/** `GET /api/queue/upcoming` (lead, admin): the next images of the queue, as an expert with no votes yet sees it. */
export interface UpcomingImage {
  image: { id: string; bundle: string; name: string };
  source: UpcomingSource;
  /** The ordering's score: the model's priority, the unusualness score; null for started and fresh images. */
  score: number | null;
  /** The reason a lead reads, e.g. "looks unusual: top 3 % in bundle-04, strongest in …". */
  reason: string;
}

export interface UpcomingQueue {
  /** The active model version whose priorities order the queue; null before the first model. */
  modelVersion: string | null;
  items: UpcomingImage[];
}
