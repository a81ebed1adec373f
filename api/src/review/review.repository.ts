import type { Exec } from '../../../lib/db/schema.ts';

/** Included images waiting for the lead, longest waiting first (an excluded image waits for nobody). */
export function needsLead(db: Exec) {
  return db
    .selectFrom('image_consensus as c')
    .innerJoin('images as i', 'i.id', 'c.image_id')
    .select(['c.image_id'])
    .where('c.status', '=', 'needs_lead')
    .where('i.excluded', '=', false)
    .orderBy('c.updated_at')
    .orderBy('c.image_id')
    .execute();
}

/** Included images decided by the vote rule (not by the lead), with their verdict. */
export function voteResolved(db: Exec) {
  return db
    .selectFrom('image_consensus as c')
    .innerJoin('images as i', 'i.id', 'c.image_id')
    .select(['c.image_id', 'c.verdict'])
    .where('c.status', '=', 'resolved')
    .where('c.method', '<>', 'lead')
    .where('i.excluded', '=', false)
    .execute();
}

/**
 * Vote-resolved included images whose active-model prediction confidently contradicts the consensus: P(abnormal)
 * at least `confidence` on a normal consensus, or at most 1 − `confidence` on an abnormal one.
 */
export function modelContradictions(db: Exec, modelVersion: string, confidence: number) {
  return db
    .selectFrom('image_consensus as c')
    .innerJoin('predictions as p', (j) =>
      j.onRef('p.image_id', '=', 'c.image_id').on('p.model_version', '=', modelVersion),
    )
    .innerJoin('images as i', 'i.id', 'c.image_id')
    .select(['c.image_id', 'c.verdict', 'p.p_abnormal'])
    .where('c.status', '=', 'resolved')
    .where('i.excluded', '=', false)
    .where('c.method', '<>', 'lead')
    .where((eb) =>
      eb.or([
        eb.and([eb('c.verdict', '=', 'normal'), eb('p.p_abnormal', '>=', confidence)]),
        eb.and([eb('c.verdict', '=', 'abnormal'), eb('p.p_abnormal', '<=', 1 - confidence)]),
      ]),
    )
    .execute();
}

export function imageSummaries(db: Exec, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('images as i')
    .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
    .select(['i.id', 'i.name', 'b.name as bundle'])
    .where('i.id', 'in', ids)
    .execute();
}

export function predictionsOf(db: Exec, ids: string[], modelVersion: string) {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('predictions')
    .select(['image_id', 'model_version', 'p_abnormal', 'priority', 'reason'])
    .where('model_version', '=', modelVersion)
    .where('image_id', 'in', ids)
    .execute();
}
