/** Votes (`/api/images/:id/votes`). */
import type { AnomalyCode } from '../anomaly-types.ts';
import type { Verdict } from '../domain.ts';
import type { UserRef } from './users.ts';

export type { Verdict };

/** `PUT /api/images/:id/votes/me`: the body, as the API's schema (`api/src/votes/votes.schema.ts`) accepts it. */
export interface VoteInput {
  verdict: Verdict;
  /** Distinct codes, any order (the API stores them in the paper's order). */
  anomalies: AnomalyCode[];
  comment?: string | null;
  /** Whether the client showed the model's prediction before this vote (for bias analysis). */
  modelHintShown?: boolean;
  /**
   * The anomaly types the model's hint pre-selected on the form; absent or null when no type hint was shown. Only
   * with `modelHintShown: true` (422 otherwise).
   */
  anomalyHint?: AnomalyCode[] | null;
}

/** What every stored vote says, however it is shown. */
interface StoredVoteFields {
  verdict: Verdict;
  /** Stored codes in the paper's order (strings: the store does not re-check them on the way out). */
  anomalies: string[];
  comment: string | null;
  modelHintShown: boolean;
  /** The types the model's hint pre-selected (paper order); null when no type hint was shown. */
  anomalyHint: string[] | null;
  createdAt: string;
}

/** The caller's own vote, as `PUT …/votes/me` answers it. */
export interface MyVoteDto extends StoredVoteFields {
  imageId: string;
}

/** A vote as the lead sees it (current votes and history). */
export interface VoteDto extends StoredVoteFields {
  id: string;
  user: UserRef;
}
