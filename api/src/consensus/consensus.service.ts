import type { Kysely, Transaction } from 'kysely';
import type { DB, ImageStatus, Verdict } from '../../../lib/db/schema.ts';
import { decideConsensus, sortAnomalies, type ConsensusSettings } from '../../../lib/consensus/rule.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { getSettings, settingsFromRows } from '../settings/settings.service.ts';
import { hasVoted } from '../votes/votes.repository.ts';
import * as repo from './consensus.repository.ts';
import { currentDawidSkene } from './dawid-skene.service.ts';
import { RuleInputsCache } from './rule-inputs-cache.ts';
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

function toRow(
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

export interface RecordedVote {
  vote: repo.StoredVote;
  /** The image's consensus once this vote (and any vote stored with it) counts. */
  consensus: repo.ConsensusRow;
}

/** A vote stored one by one under the image's lock; undefined when the image does not exist. */
function recordLocked(db: Kysely<DB>, vote: repo.NewVote): Promise<RecordedVote | undefined> {
  return db.transaction().execute(async (tx) => {
    const locked = await repo.lockImageAndInsertVote(tx, vote);
    if (!locked) return undefined;
    return { vote: locked, consensus: (await recomputeConsensus(tx, vote.imageId, vote.userId)).row };
  });
}

/**
 * Store votes, each with its image's new consensus, atomically per image; per vote, in the order given,
 * what was stored (undefined when its image does not exist) or why it failed. One vote is a batch of one.
 *
 * The common case costs one or two round trips for the whole batch and holds no lock between them:
 * read the rule's inputs of every image — or presume them from what this process wrote last (`known`,
 * rule-inputs-cache.ts: then no read at all) — apply the rule with each image's new votes in place of
 * their voters' previous ones, and write all in one statement that checks nothing changed meanwhile
 * (repo.insertVotesIfUnchanged). The images where something did — a concurrent vote, a resolution, a
 * settings change, a wrong presumption — take the locked path, vote by vote: lock the image, insert,
 * recompute from the stored votes. So does a second vote of the same expert on the same image in one batch, and every vote
 * of a batch whose statement the data refused (one bad vote fails alone). All paths end in the same
 * stored state as voting one by one in the order given.
 */
export async function recordVotes(
  db: Kysely<DB>,
  votes: readonly repo.NewVote[],
  /** What this process knows of the images' inputs (the API's lives as long as it does). */
  known = new RuleInputsCache(),
): Promise<PromiseSettledResult<RecordedVote | undefined>[]> {
  const seen = new Set<string>();
  const batched: number[] = [];
  const later: number[] = [];
  votes.forEach((v, i) => {
    const key = `${v.imageId}:${v.userId}`;
    (seen.has(key) ? later : batched).push(i);
    seen.add(key);
  });
  const results: PromiseSettledResult<RecordedVote | undefined>[] = new Array(votes.length);
  const stored = await storeIfUnchanged(
    db,
    batched.map((i) => votes[i]!),
    known,
  ).catch((error: unknown) => {
    if (refusedByData(error)) return new Map<string, RecordedVote>();
    throw error;
  });
  const retry: number[] = [];
  for (const i of batched) {
    const done = stored.get(`${votes[i]!.imageId}:${votes[i]!.userId}`);
    if (done) results[i] = { status: 'fulfilled', value: done };
    else retry.push(i);
  }
  // Retries of different images run side by side; those of one image queue on its lock in order.
  await Promise.all(
    groupBy([...retry, ...later], (i) => votes[i]!.imageId).map(async (group) => {
      known.forget(votes[group[0]!]!.imageId);
      for (const i of group) {
        results[i] = await recordLocked(db, votes[i]!).then(
          (value) => ({ status: 'fulfilled', value }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        );
      }
    }),
  );
  return results;
}

/** The optimistic batch: what it stored, by `imageId:userId` (unique within `votes`). */
async function storeIfUnchanged(
  db: Kysely<DB>,
  votes: readonly repo.NewVote[],
  known: RuleInputsCache,
): Promise<Map<string, RecordedVote>> {
  const byImage = groupBy(votes, (v) => v.imageId);
  const ids = byImage.map((g) => g[0]!.imageId);
  let inputs = known.presumed(ids);
  if (!inputs) {
    inputs = await repo.ruleInputsOf(db, ids);
    known.learn(inputs);
  }
  const settings = settingsFromRows(inputs.settings);
  const now = new Date();
  const rows: repo.GuardedConsensusRow[] = [];
  const counted = new Map<string, repo.ImageRuleInputs>();
  for (const group of byImage) {
    const id = group[0]!.imageId;
    const image = inputs.images.get(id);
    if (!image) continue; // no such image: the locked path says so
    const voters = new Set(group.map((v) => v.userId));
    const current = [
      ...image.votes.filter((v) => !voters.has(v.user_id)),
      ...group.map((v) => ({ user_id: v.userId, verdict: v.verdict, anomalies: v.anomalies })),
    ];
    counted.set(id, { ...image, votes: current });
    rows.push({ ...toRow(id, current, image.latest, settings, now), seen_revision: image.revision });
  }
  if (rows.length === 0) return new Map();
  const consensus = new Map(rows.map((r) => [r.image_id, r]));
  const written = await repo.insertVotesIfUnchanged(db, votes, rows, inputs.settingsText);
  const revisions = new Map(written.map((w) => [w.image_id, w.revision]));
  for (const id of counted.keys()) {
    const revision = revisions.get(id);
    if (revision === undefined) known.refused(id);
    else known.wrote(id, { ...counted.get(id)!, revision });
  }
  return new Map(
    written.map(({ user_id, revision: _, ...vote }) => [
      `${vote.image_id}:${user_id}`,
      { vote, consensus: consensus.get(vote.image_id)! },
    ]),
  );
}

/**
 * A batch statement the data refused — a value it cannot take (class 22: text PostgreSQL cannot store,
 * should one get past the edge's checks), an integrity violation (class 23: say, a voter deleted
 * meanwhile) or a deadlock or serialization failure (class 40) — as opposed to a broken statement or
 * connection, which must surface. Every vote of a refused batch is retried alone, so one bad vote fails
 * only itself, never the other experts' votes that shared its statement.
 */
function refusedByData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|40)/.test(code);
}

/** Items grouped by key, groups in order of first appearance, items in order within a group. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
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
