import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { AuthUser, Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { sortAnomalies } from '../../../lib/consensus/rule.ts';
import { readSettingRows, writeSetting } from '../settings/settings.repository.ts';
import { settingsAndActiveModel } from '../settings/settings.service.ts';
import { imageOfWithModel, modelVisibleTo } from '../images/images.service.ts';
import * as repo from './references.repository.ts';
import type { ImageDto } from '../../../lib/api-types/images.ts';
import type { MyVoteDto, VoteInput } from '../../../lib/api-types/votes.ts';
import type { ReferenceDto, ReferencesDto } from '../../../lib/api-types/references.ts';
import type { Exec } from '../../../lib/db/schema.ts';

/** The share of each expert's queue that references take (0 until a lead sets it). */
export async function referenceRate(db: Exec): Promise<number> {
  const value = (await readSettingRows(db)).get(repo.RATE_KEY);
  return typeof value === 'number' ? value : 0;
}

/**
 * `PUT /api/images/:id/reference` (lead, admin): mark a resolved, included image as a reference. Its consensus
 * now (verdict and anomaly types) becomes the answer; a later change of the consensus does not move it (mark it
 * again after unmarking). 404 no image; 409 excluded, not resolved, or a reference already.
 */
export async function markReference(
  services: Services,
  user: AuthUser,
  imageId: string,
): Promise<ReferenceDto> {
  await services.db.transaction().execute(async (tx) => {
    const image = await repo.lockImage(tx, imageId);
    if (!image) throw new AppError('not_found', `no image with id ${imageId}`);
    if (image.excluded) throw new AppError('conflict', `image ${imageId} is excluded: restore it first`);
    if (image.status !== 'resolved' || !image.verdict)
      throw new AppError(
        'conflict',
        `only a resolved image can be a reference; image ${imageId} is ${(image.status ?? 'unlabeled').replace('_', ' ')}`,
      );
    if ((await repo.latestMark(tx, imageId))?.action === 'mark')
      throw new AppError('conflict', `image ${imageId} is a reference already`);
    await repo.insertMark(tx, {
      imageId,
      userId: user.id,
      action: 'mark',
      verdict: image.verdict,
      anomalies: image.anomalies ?? [],
    });
  });
  return (await listReferences(services)).find((r) => r.image.id === imageId)!;
}

/**
 * `DELETE /api/images/:id/reference` (lead, admin): the image stops being a reference; its answers so far stay
 * in every expert's record. 404 no image; 409 not a reference.
 */
export async function unmarkReference(services: Services, user: AuthUser, imageId: string): Promise<void> {
  await services.db.transaction().execute(async (tx) => {
    const image = await repo.lockImage(tx, imageId);
    if (!image) throw new AppError('not_found', `no image with id ${imageId}`);
    if ((await repo.latestMark(tx, imageId))?.action !== 'mark')
      throw new AppError('conflict', `image ${imageId} is not a reference`);
    await repo.insertMark(tx, { imageId, userId: user.id, action: 'unmark', verdict: null, anomalies: [] });
  });
}

/** `PUT /api/references/rate` (lead, admin): the share of each expert's queue that references take. */
export async function setReferenceRate(
  services: Services,
  user: AuthUser,
  rate: number,
): Promise<{ rate: number }> {
  await services.db.transaction().execute((tx) => writeSetting(tx, repo.RATE_KEY, rate, user.id));
  return { rate };
}

async function listReferences(services: Services): Promise<ReferenceDto[]> {
  return (await repo.listReferences(services.db)).map((r) => ({
    image: { id: r.image_id, name: r.name, bundle: r.bundle, excluded: r.excluded },
    verdict: r.verdict!,
    anomalies: sortAnomalies(r.anomalies),
    markedBy: r.username,
    markedAt: r.created_at.toISOString(),
    answers: Number(r.answers ?? 0),
    correct: Number(r.correct ?? 0),
  }));
}

/** `GET /api/references` (lead, admin): the rate, the current references, and each expert's accuracy over time. */
export async function references(services: Services): Promise<ReferencesDto> {
  const [rate, refs, days] = await Promise.all([
    referenceRate(services.db),
    listReferences(services),
    repo.answersByExpertAndDay(services.db),
  ]);
  const experts = new Map<string, ReferencesDto['experts'][number]>();
  for (const d of days) {
    const e = experts.get(d.user_id) ?? {
      user: { id: d.user_id, username: d.username },
      answered: 0,
      correct: 0,
      accuracy: null,
      days: [],
    };
    e.answered += d.answered;
    e.correct += d.correct;
    e.accuracy = e.correct / e.answered;
    e.days.push({ day: d.day, answered: d.answered, correct: d.correct });
    experts.set(d.user_id, e);
  }
  return { rate, references: refs, experts: [...experts.values()] };
}

/**
 * Whether the expert's next image is a reference: a draw in [0, 1) from a hash of the expert and how many images
 * they have answered, below the rate. A hash, not a counter (every k-th image) an expert could learn to spot,
 * and not Math.random, so a test (and a reload before the next answer) sees the same draw.
 */
export function drawsReference(userId: string, done: number, rate: number): boolean {
  if (rate <= 0) return false;
  const h = createHash('sha256').update(`reference:${userId}:${done}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < rate;
}

/**
 * The queue's first question (experts only; the lead who marks references is not blind to them): an open offer
 * of a reference the expert has not answered yet (a reload gets it again), else, when the draw says so, a
 * reference the expert has not answered, offered now. The image is shown like any other: its status reads
 * "pending" (a queue image is never resolved), so nothing tells the expert it is a reference.
 */
export async function nextReference(
  services: Services,
  user: AuthUser,
  exclude: ReadonlySet<string>,
): Promise<ImageDto | null> {
  if (user.role !== 'expert') return null;
  const db = services.db;
  const held = [...exclude];
  let imageId = await repo.openOffer(db, user.id, held);
  if (!imageId) {
    // The rate first: at the default 0 the queue's hot path pays one settings read, not a count of votes.
    const rate = await referenceRate(db);
    if (rate <= 0 || !drawsReference(user.id, await repo.workDone(db, user.id), rate)) return null;
    imageId = await repo.freshReferenceFor(db, user.id, held);
    if (!imageId) return null;
    await repo.insertOffer(db, imageId, user.id);
  }
  const { settings, activeModel } = await settingsAndActiveModel(db);
  const image = await imageOfWithModel(
    db,
    sql<string>`${imageId}::bigint`,
    modelVisibleTo(user, settings, activeModel),
  );
  return image && { ...image, status: 'pending' };
}

/**
 * The vote of an expert on a reference the queue offered them is an answer, not a vote: it is kept with the
 * answer in force and never touches the image's votes or consensus. Null when the image was not offered to
 * them as a reference (then it is an ordinary vote). Answered like a vote, so the expert stays blind.
 */
export async function answerIfReference(
  services: Services,
  user: AuthUser,
  imageId: string,
  input: VoteInput,
): Promise<MyVoteDto | null> {
  if (user.role !== 'expert') return null;
  // One statement on the vote's hot path; only a taken offer costs more.
  if (!(await repo.takeOffer(services.db, user.id, imageId))) return null;
  // The answer of the latest mark: the one the expert was tested on, even if the image was unmarked since.
  const expected = await repo.latestAnswerKey(services.db, imageId);
  if (!expected) return null;
  const row = await repo.insertAnswer(services.db, {
    imageId,
    userId: user.id,
    verdict: input.verdict,
    anomalies: sortAnomalies(input.anomalies),
    expected,
  });
  return {
    imageId: row.image_id,
    verdict: row.verdict,
    anomalies: row.anomalies,
    comment: input.comment?.trim() ? input.comment : null,
    modelHintShown: input.modelHintShown ?? false,
    anomalyHint: input.anomalyHint ? sortAnomalies(input.anomalyHint) : null,
    createdAt: row.created_at.toISOString(),
  };
}
