import type { Transaction } from 'kysely';
import type { DB, ImageStatus, Verdict } from '../../../lib/db/schema.ts';
import { decideConsensus, sortAnomalies, type ConsensusSettings } from '../../../lib/consensus/rule.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { getSettings, settingsFromRows } from '../settings/settings.service.ts';
import { hasVoted } from '../votes/votes.repository.ts';
import * as repo from './consensus.repository.ts';
import { currentDawidSkene } from './dawid-skene.service.ts';
import type { ConsensusDto } from '../../../lib/api-types/consensus.ts';

type StoredConsensus = NonNullable<Awaited<ReturnType<typeof repo.findConsensus>>>;

/** Maps a stored row (or none: an image nobody voted on yet) to the contract's object. */
export function toConsensusDto(row: StoredConsensus | undefined, settings: ConsensusSettings): ConsensusDto {
  if (!row || row.status === 'unlabeled') {
    return {
      status: 'pending',
      verdict: null,
      anomalies: [],
      method: null,
      counts: { normal: row?.normal_votes ?? 0, abnormal: row?.abnormal_votes ?? 0 },
      votesNeeded: settings.votesRequired,
    };
  }
  const dto: ConsensusDto = {
    status: row.status,
    verdict: row.verdict,
    anomalies: sortAnomalies(row.anomalies),
    method: row.method,
    counts: { normal: row.normal_votes, abnormal: row.abnormal_votes },
    votesNeeded: row.votes_needed,
  };
  if (row.method === 'lead' && row.resolved_by) {
    dto.resolvedBy = { id: row.resolved_by, username: row.resolved_by_username ?? '' };
    dto.reason = row.reason ?? '';
  }
  if (row.resolved_at) dto.resolvedAt = row.resolved_at.toISOString();
  return dto;
}

type Resolution = repo.ImageRuleInputs['latest'];

export function toRow(
  imageId: string,
  votes: { verdict: Verdict; anomalies: string[] }[],
  latest: Resolution,
  settings: ConsensusSettings,
  now: Date,
): repo.ConsensusRow {
  const active = latest?.action === 'resolve' && latest.verdict ? latest : null;
  const outcome = decideConsensus(
    votes,
    active ? { verdict: active.verdict!, anomalies: active.anomalies } : null,
    settings,
  );
  const status: ImageStatus =
    outcome.status === 'pending' && votes.length === 0 ? 'unlabeled' : outcome.status;
  return {
    image_id: imageId,
    status,
    verdict: outcome.status === 'resolved' ? outcome.verdict : null,
    anomalies: outcome.status === 'resolved' ? outcome.anomalies : [],
    method: outcome.status === 'resolved' ? outcome.method : null,
    normal_votes: outcome.counts.normal,
    abnormal_votes: outcome.counts.abnormal,
    votes_needed: outcome.status === 'pending' ? outcome.votesNeeded : 0,
    resolved_by: active ? active.user_id : null,
    reason: active ? active.reason : null,
    resolved_at: active ? active.created_at : outcome.status === 'resolved' ? now : null,
  };
}

/**
 * Apply the rule to the image's stored votes and resolution, with the stored settings, and store the
 * result. Call it inside the transaction that changed them, with the image's row lock held, so readers
 * never see a vote without its effect. `releaseLeaseOf`: the voter whose queue lease ends with this vote.
 */
export async function recomputeConsensus(tx: Transaction<DB>, imageId: string, releaseLeaseOf?: string) {
  const inputs = await repo.ruleInputsOf(tx, [imageId]);
  const settings = settingsFromRows(inputs.settings);
  const image = inputs.images.get(imageId);
  const row = toRow(imageId, image?.votes ?? [], image?.latest, settings, new Date());
  await repo.upsertConsensus(tx, [row], releaseLeaseOf);
  return { row, settings };
}

/** Recompute every image that has votes or a resolution (after a settings change), in batches. */
export async function recomputeAllConsensus(tx: Transaction<DB>, settings: ConsensusSettings): Promise<void> {
  const [votes, resolutions] = await Promise.all([repo.allCurrentVotes(tx), repo.allLatestResolutions(tx)]);
  const byImage = new Map<string, { verdict: Verdict; anomalies: string[] }[]>();
  for (const v of votes) {
    const list = byImage.get(v.image_id) ?? [];
    list.push(v);
    byImage.set(v.image_id, list);
  }
  const latest = new Map(resolutions.map((r) => [r.image_id, r]));
  const ids = new Set([...byImage.keys(), ...latest.keys()]);
  const now = new Date();
  const rows = [...ids].map((id) => toRow(id, byImage.get(id) ?? [], latest.get(id), settings, now));
  for (let i = 0; i < rows.length; i += 500) await repo.upsertConsensus(tx, rows.slice(i, i + 500));
  await repo.setUnlabeledVotesNeeded(tx, settings.votesRequired);
}

/** Votes are blind: an expert sees an image's votes and consensus only after voting on it. */
export async function assertMaySeeVotes(services: Services, user: AuthUser, imageId: string): Promise<void> {
  if (user.role !== 'expert') return;
  if (!(await hasVoted(services.db, imageId, user.id))) {
    throw new AppError('forbidden', 'votes are blind: vote on this image first, then you can see the others');
  }
}

export async function getConsensus(
  services: Services,
  user: AuthUser,
  imageId: string,
): Promise<ConsensusDto> {
  if (!(await repo.imageExists(services.db, imageId)))
    throw new AppError('not_found', `no image with id ${imageId}`);
  await assertMaySeeVotes(services, user, imageId);
  const [row, settings] = await Promise.all([
    repo.findConsensus(services.db, imageId),
    getSettings(services.db),
  ]);
  const dto = toConsensusDto(row, settings);
  if (user.role === 'lead' || user.role === 'admin') {
    const p = (await currentDawidSkene(services.db)).posterior.get(imageId);
    dto.dawidSkene = p === undefined ? null : { pAbnormal: p };
  }
  return dto;
}

/**
 * The lead decides (append-only: a new resolution row; the latest one counts). It stands over later
 * votes until another resolution or a withdrawal. The consensus is recomputed in the same transaction.
 */
export async function resolveImage(
  services: Services,
  user: AuthUser,
  imageId: string,
  input: { verdict: Verdict; anomalies: string[]; reason: string },
): Promise<ConsensusDto> {
  const dto = await services.db.transaction().execute(async (tx) => {
    if (!(await repo.lockImage(tx, imageId))) throw new AppError('not_found', `no image with id ${imageId}`);
    await repo.insertResolution(tx, { imageId, userId: user.id, action: 'resolve', ...input });
    return recomputeAndRead(tx, imageId);
  });
  services.labelsChanged();
  return dto;
}

/** `DELETE /resolution`: appends a withdrawal, returning the image to the vote rule. 409 when none is active. */
export async function withdrawResolution(
  services: Services,
  user: AuthUser,
  imageId: string,
): Promise<ConsensusDto> {
  const dto = await services.db.transaction().execute(async (tx) => {
    if (!(await repo.lockImage(tx, imageId))) throw new AppError('not_found', `no image with id ${imageId}`);
    const latest = await repo.latestResolution(tx, imageId);
    if (latest?.action !== 'resolve') {
      throw new AppError('conflict', 'this image has no lead resolution to withdraw');
    }
    await repo.insertResolution(tx, { imageId, userId: user.id, action: 'withdraw' });
    return recomputeAndRead(tx, imageId);
  });
  services.labelsChanged();
  return dto;
}

async function recomputeAndRead(tx: Transaction<DB>, imageId: string): Promise<ConsensusDto> {
  const { settings } = await recomputeConsensus(tx, imageId);
  return toConsensusDto(await repo.findConsensus(tx, imageId), settings);
}
