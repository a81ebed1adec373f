import { sql, type Kysely } from 'kysely';

/**
 * Derived state as views, so each fact is derived in one place (issue 18):
 *
 * - `active_model`: the active model version is the latest activation (model_activations is append-only
 *   history: every activation, forced or automatic, is a new row). At most one row; none before the first model.
 * - `current_votes`: each voter's current vote on an image is their latest row (votes are append-only: a changed
 *   vote is a new row, the old one stays in the history). PostgreSQL pushes a filter on `image_id` / `user_id`
 *   into the DISTINCT ON, so `where image_id = $1` reads that image's rows through votes (image_id, user_id, id)
 *   as the hand-written queries did.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create view active_model as
      select a.model_version, a.activated_by, a.reason, a.created_at
      from model_activations a
      order by a.id desc
      limit 1`.execute(db);
  await sql`
    create view current_votes as
      select distinct on (v.image_id, v.user_id)
        v.id, v.image_id, v.user_id, v.verdict, v.anomalies, v.comment, v.model_hint_shown, v.anomaly_hint,
        v.created_at
      from votes v
      order by v.image_id, v.user_id, v.id desc`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop view current_votes`.execute(db);
  await sql`drop view active_model`.execute(db);
}
