/** Consensus and the lead's review queue (`/api/images/:id/consensus`, `/api/review/queue`). */
import type { ConsensusMethod, Verdict } from '../domain.ts';
import type { UserRef } from './users.ts';
import type { VoteDto } from './votes.ts';

/** The contract's consensus object (`GET /api/images/:id/consensus`), plus `votesNeeded`. */
export interface ConsensusDto {
  status: 'pending' | 'needs_lead' | 'resolved';
  verdict: Verdict | null;
  anomalies: string[];
  method: ConsensusMethod | null;
  counts: { normal: number; abnormal: number };
  /** Further votes the rule still asks for (0 when decided or waiting for the lead). */
  votesNeeded: number;
  resolvedBy?: UserRef;
  reason?: string;
  resolvedAt?: string;
  /** Leads and admins: the Dawid–Skene posterior P(abnormal) beside the vote result (null: no votes). */
  dawidSkene?: { pAbnormal: number } | null;
}

export type ReviewReasonCode = 'needs_lead' | 'dawid_skene_disagrees' | 'model_contradicts';

/** One entry of `GET /api/review/queue`. */
export interface ReviewItem {
  image: { id: string; bundle: string; name: string };
  reasons: { code: ReviewReasonCode; detail: string }[];
  consensus: ConsensusDto;
  votes: VoteDto[];
  /** Dawid–Skene posterior P(abnormal) beside the majority result; null for images without votes. */
  dawidSkene: { pAbnormal: number } | null;
  prediction: { modelVersion: string; pAbnormal: number; priority: number; reason: string } | null;
}
