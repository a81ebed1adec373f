import { sql, type Kysely } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';
import { exclusionInForce } from '../images/exclusions.repository.ts';

/** Rows per page: exports read the tables page by page (keyset on id), never whole. */
export const PAGE = 1000;

/** One page of labels: every image with its consensus and the active model's prediction, by image id. */
export function labelsPage(db: Kysely<DB>, afterId: string, modelVersion: string | null) {
  return (
    db
      .selectFrom('images as i')
      .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
      .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
      .leftJoin('users as u', 'u.id', 'c.resolved_by')
      .leftJoin('predictions as p', (j) =>
        j.onRef('p.image_id', '=', 'i.id').on('p.model_version', '=', modelVersion ?? '0'),
      )
      // The exclusion in force (the latest exclusion row of an excluded image).
      .leftJoinLateral(exclusionInForce, (join) => join.on('i.excluded', '=', true))
      .select([
        'i.id',
        'b.name as bundle',
        'i.name',
        'i.sha256',
        'c.status',
        'c.verdict',
        'c.method',
        'c.anomalies',
        'c.normal_votes',
        'c.abnormal_votes',
        'u.username as resolved_by',
        'c.resolved_at',
        'p.p_abnormal',
        'p.model_version',
        'i.excluded',
        'x.created_at as excluded_at',
        'x.username as excluded_by',
        'x.reason as exclusion_reason',
      ])
      .where('i.id', '>', afterId)
      .orderBy('i.id')
      .limit(PAGE)
      .execute()
  );
}

/** One page of the vote history, by vote id; `current` marks each voter's latest vote on the image. */
export function votesPage(db: Kysely<DB>, afterId: string) {
  return db
    .selectFrom('votes as v')
    .innerJoin('images as i', 'i.id', 'v.image_id')
    .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
    .innerJoin('users as u', 'u.id', 'v.user_id')
    .select([
      'v.id',
      'v.image_id',
      'b.name as bundle',
      'i.name',
      'i.sha256',
      'v.user_id',
      'u.username',
      'v.verdict',
      'v.anomalies',
      'v.comment',
      'v.model_hint_shown',
      'v.created_at',
      // A scalar subquery, so the filter on (image_id, user_id) reaches into the view's DISTINCT ON: one index
      // probe per vote (as EXISTS, the planner hashes the whole view once per page instead).
      sql<boolean>`(select c.id from current_votes c
        where c.image_id = v.image_id and c.user_id = v.user_id) = v.id`.as('current'),
      'v.anomaly_hint',
    ])
    .where('v.id', '>', afterId)
    .orderBy('v.id')
    .limit(PAGE)
    .execute();
}

/** One page of the exclusion history (every exclude and restore, who and why), by row id. */
export function exclusionsPage(db: Kysely<DB>, afterId: string) {
  return db
    .selectFrom('image_exclusions as x')
    .innerJoin('images as i', 'i.id', 'x.image_id')
    .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
    .innerJoin('users as u', 'u.id', 'x.user_id')
    .select([
      'x.id',
      'x.image_id',
      'b.name as bundle',
      'i.name',
      'i.sha256',
      'x.action',
      'x.reason',
      'u.username',
      'x.created_at',
    ])
    .where('x.id', '>', afterId)
    .orderBy('x.id')
    .limit(PAGE)
    .execute();
}
