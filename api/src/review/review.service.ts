import type { Services } from '../http/context.ts';
import { currentDawidSkene } from '../consensus/dawid-skene.service.ts';
import { findConsensusOf } from '../consensus/consensus.repository.ts';
import { toConsensusDto } from '../consensus/consensus.service.ts';
import { activeModelVersion } from '../models/models.repository.ts';
import { getSettings } from '../settings/settings.service.ts';
import { currentVotesOf } from '../votes/votes.service.ts';
import * as repo from './review.repository.ts';
import type { ReviewItem, ReviewReasonCode } from '../../../lib/api-types/consensus.ts';

/** A model "confidently contradicts" a consensus when it gives the other verdict at least this probability. */
export const MODEL_CONFIDENCE = 0.8;

const SECTION: Record<ReviewReasonCode, number> = {
  needs_lead: 0,
  dawid_skene_disagrees: 1,
  model_contradicts: 2,
};

/**
 * The lead's review queue: `needs_lead` images first (longest waiting first), then vote-resolved images
 * where Dawid–Skene and the majority disagree (strongest disagreement first), then vote-resolved images
 * the active model confidently contradicts (most confident first). An image with several reasons appears
 * once, in its first section, listing all of them. Lead-resolved images never reappear: the lead decided.
 */
export async function reviewQueue(services: Services, limit: number): Promise<ReviewItem[]> {
  const db = services.db;
  const reasons = new Map<string, { section: number; strength: number; reasons: ReviewItem['reasons'] }>();
  const add = (id: string, code: ReviewReasonCode, strength: number, detail: string) => {
    const entry = reasons.get(id) ?? { section: SECTION[code], strength, reasons: [] };
    entry.reasons.push({ code, detail });
    reasons.set(id, entry);
  };

  (await repo.needsLead(db)).forEach((r, i) => add(r.image_id, 'needs_lead', -i, 'the votes are tied'));

  const ds = await currentDawidSkene(db);
  for (const r of await repo.voteResolved(db)) {
    const p = ds.posterior.get(r.image_id);
    if (p === undefined || (p > 0.5 ? 'abnormal' : 'normal') === r.verdict) continue;
    add(
      r.image_id,
      'dawid_skene_disagrees',
      Math.abs(p - 0.5),
      `the majority says ${r.verdict}, but weighing each expert by their estimated reliability gives ` +
        `P(abnormal) = ${p.toFixed(2)}`,
    );
  }

  const model = await activeModelVersion(db);
  if (model) {
    for (const r of await repo.modelContradictions(db, model, MODEL_CONFIDENCE)) {
      const against = r.verdict === 'normal' ? r.p_abnormal : 1 - r.p_abnormal;
      add(
        r.image_id,
        'model_contradicts',
        against,
        `the consensus is ${r.verdict}, the model (version ${model}) gives P(abnormal) = ${r.p_abnormal.toFixed(2)}`,
      );
    }
  }

  const chosen = [...reasons]
    .sort(([a, x], [b, y]) => x.section - y.section || y.strength - x.strength || Number(a) - Number(b))
    .slice(0, limit);
  const ids = chosen.map(([id]) => id);
  // A constant number of statements, whatever the limit (one per kind of data, never one per item).
  const [images, predictions, settings, consensusRows, votes] = await Promise.all([
    repo.imageSummaries(db, ids),
    model ? repo.predictionsOf(db, ids, model) : Promise.resolve([]),
    getSettings(db),
    findConsensusOf(db, ids),
    currentVotesOf(db, ids),
  ]);
  const consensusById = new Map(consensusRows.map((c) => [c.image_id, c]));
  const imageById = new Map(images.map((i) => [i.id, i]));
  const predictionById = new Map(predictions.map((p) => [p.image_id, p]));
  return chosen.map(([id, entry]) => {
    const p = predictionById.get(id);
    const posterior = ds.posterior.get(id);
    return {
      image: { id, bundle: imageById.get(id)!.bundle, name: imageById.get(id)!.name },
      reasons: entry.reasons,
      consensus: toConsensusDto(consensusById.get(id), settings),
      votes: votes.get(id) ?? [],
      dawidSkene: posterior === undefined ? null : { pAbnormal: posterior },
      prediction: p
        ? { modelVersion: p.model_version, pAbnormal: p.p_abnormal, priority: p.priority, reason: p.reason }
        : null,
    };
  });
}
