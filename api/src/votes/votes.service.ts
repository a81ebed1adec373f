import type { Kysely } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';
import type { Services, AuthUser } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { sortAnomalies } from '../../../lib/consensus/rule.ts';
import { imageExists } from '../consensus/consensus.repository.ts';
import { assertMaySeeVotes } from '../consensus/consensus.service.ts';
import * as repo from './votes.repository.ts';
import { answerIfReference } from '../references/references.service.ts';
import type { MyVoteDto, VoteDto, VoteInput } from '../../../lib/api-types/votes.ts';

type VoteRow = Awaited<ReturnType<typeof repo.listVoteHistory>>[number];

function toDto(r: VoteRow): VoteDto {
  return {
    id: r.id,
    user: { id: r.user_id, username: r.username },
    verdict: r.verdict,
    anomalies: sortAnomalies(r.anomalies),
    comment: r.comment,
    modelHintShown: r.model_hint_shown,
    anomalyHint: r.anomaly_hint && sortAnomalies(r.anomaly_hint),
    createdAt: r.created_at.toISOString(),
  };
}

/**
 * Record the caller's vote (a new row; it replaces their current vote, the old one stays in the history)
 * — or, on a reference the queue offered them blind, their answer (references.service answerIfReference) —
 * with the image's recomputed consensus, atomically (record-votes.ts, the write path, says how), batched with concurrent votes.
 */
export async function castVote(
  services: Services,
  user: AuthUser,
  imageId: string,
  input: VoteInput,
): Promise<MyVoteDto> {
  // A reference the queue offered this expert: the vote is their answer on it, kept apart from the votes.
  const answer = await answerIfReference(services, user, imageId, input);
  if (answer) return answer;
  const recorded = await services.votes.submit({
    imageId,
    userId: user.id,
    verdict: input.verdict,
    anomalies: sortAnomalies(input.anomalies),
    comment: input.comment?.trim() ? input.comment : null,
    modelHintShown: input.modelHintShown ?? false,
    anomalyHint: input.anomalyHint ? sortAnomalies(input.anomalyHint) : null,
  });
  if (!recorded) throw new AppError('not_found', `no image with id ${imageId}`);
  if (recorded.consensus.status === 'resolved') services.labelsChanged();
  const row = recorded.vote;
  return {
    imageId: row.image_id,
    verdict: row.verdict,
    anomalies: row.anomalies,
    comment: row.comment,
    modelHintShown: row.model_hint_shown,
    anomalyHint: row.anomaly_hint,
    createdAt: row.created_at.toISOString(),
  };
}

/** Current votes of an image; blind to experts who have not voted on it (403). */
export async function listVotes(services: Services, user: AuthUser, imageId: string): Promise<VoteDto[]> {
  if (!(await imageExists(services.db, imageId)))
    throw new AppError('not_found', `no image with id ${imageId}`);
  await assertMaySeeVotes(services, user, imageId);
  return currentVotes(services.db, imageId);
}

/** Current votes of an image, without the blindness check: for callers that already know they may. */
export async function currentVotes(db: Kysely<DB>, imageId: string): Promise<VoteDto[]> {
  return (await currentVotesOf(db, [imageId])).get(imageId) ?? [];
}

/** Current votes of several images in one statement, by image id (each image's oldest first). */
export async function currentVotesOf(
  db: Kysely<DB>,
  imageIds: readonly string[],
): Promise<Map<string, VoteDto[]>> {
  const byImage = new Map<string, VoteDto[]>(imageIds.map((id) => [id, []]));
  for (const row of await repo.listCurrentVotesOf(db, imageIds)) byImage.get(row.image_id)?.push(toDto(row));
  return byImage;
}

/** Every vote ever cast on the image, oldest first (lead, admin). */
export async function voteHistory(services: Services, imageId: string): Promise<VoteDto[]> {
  if (!(await imageExists(services.db, imageId)))
    throw new AppError('not_found', `no image with id ${imageId}`);
  return (await repo.listVoteHistory(services.db, imageId)).map(toDto);
}
