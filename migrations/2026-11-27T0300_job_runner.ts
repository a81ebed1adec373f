import { sql, type Kysely } from 'kysely';

/**
 * The model runner's queue, after graphile-worker:
 * - `key`: a deduplication key. At most one QUEUED job per key (partial unique index), so
 *   "retrain after N new labels" enqueues at most one pending training however many votes arrive.
 * - Every new job and every consensus change sends NOTIFY platina_jobs (on commit), so runners on a
 *   real PostgreSQL wake at once instead of waiting for their poll; with no listener it costs nothing.
 * - Sweep index: running jobs by lock time (the heartbeat), to find jobs of runners that died.
 * - Queue ordering: predictions of one model version by priority (GET /api/queue/next, review queue).
 * - Embeddings of methods 2 and 4 depend on the dataset-wide bounds (paper 2.3), which move as images
 *   arrive: `bounds` ('g<lo>-<hi>', '' for methods 1 and 3) joins the key so a stale vector is never served.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table jobs add column key text`.execute(db);
  await sql`create unique index jobs_key_queued_key on jobs (key) where status = 'queued'`.execute(db);
  await sql`create index jobs_running_idx on jobs (locked_at) where status = 'running'`.execute(db);
  await sql`create index jobs_recent_idx on jobs (created_at desc, id desc)`.execute(db);
  await sql`create index jobs_kind_idx on jobs (kind, status, id desc)`.execute(db);

  await sql`
    create function platina_notify_jobs() returns trigger language plpgsql as $$
    begin
      perform pg_notify('platina_jobs', tg_table_name);
      return null;
    end $$`.execute(db);
  await sql`create trigger jobs_notify after insert on jobs
    for each statement execute function platina_notify_jobs()`.execute(db);
  await sql`create trigger image_consensus_notify after insert or update on image_consensus
    for each statement execute function platina_notify_jobs()`.execute(db);

  await sql`create index predictions_priority_idx on predictions (model_version, priority desc, image_id)`.execute(
    db,
  );
  await sql`create index model_versions_job_idx on model_versions (job_id)`.execute(db);

  await sql`alter table embeddings add column bounds text not null default ''`.execute(db);
  await sql`alter table embeddings drop constraint embeddings_pkey`.execute(db);
  await sql`alter table embeddings add primary key (backbone_hash, input_size, method, bounds, sha256, flip)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table embeddings drop constraint embeddings_pkey`.execute(db);
  await sql`alter table embeddings drop column bounds`.execute(db);
  await sql`alter table embeddings add primary key (sha256, backbone_hash, input_size, method, flip)`.execute(
    db,
  );
  await sql`drop index model_versions_job_idx`.execute(db);
  await sql`drop index predictions_priority_idx`.execute(db);
  await sql`drop trigger image_consensus_notify on image_consensus`.execute(db);
  await sql`drop trigger jobs_notify on jobs`.execute(db);
  await sql`drop function platina_notify_jobs()`.execute(db);
  await sql`drop index jobs_kind_idx`.execute(db);
  await sql`drop index jobs_recent_idx`.execute(db);
  await sql`drop index jobs_running_idx`.execute(db);
  await sql`drop index jobs_key_queued_key`.execute(db);
  await sql`alter table jobs drop column key`.execute(db);
}
