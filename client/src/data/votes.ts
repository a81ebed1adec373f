import type { ApiClient } from './api-client.ts';
import type { MyVoteDto, VoteDto, VoteInput } from '../../../lib/api-types/votes.ts';

const path = (id: string) => `/api/images/${encodeURIComponent(id)}/votes`;

/** Casts or replaces the caller's vote (every earlier vote stays in the history). */
export const putMyVote = (api: ApiClient, imageId: string, vote: VoteInput) =>
  api.put<MyVoteDto>(`${path(imageId)}/me`, vote);

export const listVotes = (api: ApiClient, imageId: string, signal?: AbortSignal) =>
  api.get<VoteDto[]>(path(imageId), { signal });

export const voteHistory = (api: ApiClient, imageId: string, signal?: AbortSignal) =>
  api.get<VoteDto[]>(`${path(imageId)}/history`, { signal });
