import { sql, type Kysely } from 'kysely';

/**
 * The whole schema of Platina's first release. Frozen in time: `Kysely<any>`, no app imports.
 *
 * Ids are bigint identities; the API hands them out as strings (pg returns int8 as text).
 * Votes and resolutions are append-only facts: a trigger refuses UPDATE and DELETE on them, so
 * "nothing acknowledged is ever lost" holds even against a buggy query. The current state
 * (latest vote per expert, active resolution, active model) is a query over that history;
 * `image_consensus` is a derived row recomputed in the same transaction as the fact that changes it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function platina_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = '55000';
    end $$`.execute(db);

  await sql`
    create table users (
      id bigint generated always as identity primary key,
      username text not null,
      password_hash text not null,
      role text not null check (role in ('expert', 'lead', 'admin', 'runner')),
      disabled_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create unique index users_username_key on users (lower(username))`.execute(db);

  await sql`
    create table sessions (
      id bigint generated always as identity primary key,
      user_id bigint not null references users(id),
      token_hash text not null unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz
    )`.execute(db);

  await sql`
    create table bundles (
      id bigint generated always as identity primary key,
      name text not null unique,
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table images (
      id bigint generated always as identity primary key,
      bundle_id bigint not null references bundles(id),
      name text not null,
      sha256 text not null unique,
      byte_size bigint not null,
      width integer not null check (width > 0),
      height integer not null check (height > 0),
      bit_depth smallint not null check (bit_depth in (8, 16)),
      px_min integer not null,
      px_max integer not null,
      p0_01 integer not null,
      p99_99 integer not null,
      histogram integer[] not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index images_bundle_idx on images (bundle_id, id)`.execute(db);

  await sql`
    create table anomaly_types (
      code text primary key,
      name text not null,
      position smallint not null unique
    )`.execute(db);
  // Section 2.2 of the paper, in its order.
  const types = [
    ['scratches', 'Scratches'],
    ['lines', 'Lines'],
    ['edge_cuts', 'Edge cuts'],
    ['edge_tensions', 'Edge tensions'],
    ['smudges', 'Smudges'],
    ['edge_ink_flow', 'Edge ink flow'],
    ['bubbles', 'Bubbles'],
    ['missing_ink', 'Missing ink'],
    ['agglomerate', 'Agglomerate'],
    ['ink_fluctuations', 'Ink fluctuations'],
    ['ink_entry_exit', 'Ink entry/exit'],
  ];
  await db
    .insertInto('anomaly_types')
    .values(types.map(([code, name], i) => ({ code, name, position: i + 1 })))
    .execute();

  await sql`
    create table votes (
      id bigint generated always as identity primary key,
      image_id bigint not null references images(id),
      user_id bigint not null references users(id),
      verdict text not null check (verdict in ('normal', 'abnormal')),
      anomalies text[] not null default '{}',
      comment text,
      model_hint_shown boolean not null default false,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index votes_image_user_idx on votes (image_id, user_id, id desc)`.execute(db);
  await sql`create index votes_user_idx on votes (user_id, image_id)`.execute(db);
  await sql`create trigger votes_append_only before update or delete on votes
    for each row execute function platina_refuse_change()`.execute(db);

  await sql`
    create table resolutions (
      id bigint generated always as identity primary key,
      image_id bigint not null references images(id),
      user_id bigint not null references users(id),
      action text not null check (action in ('resolve', 'withdraw')),
      verdict text check (verdict in ('normal', 'abnormal')),
      anomalies text[] not null default '{}',
      reason text,
      created_at timestamptz not null default now(),
      check ((action = 'resolve') = (verdict is not null and reason is not null))
    )`.execute(db);
  await sql`create index resolutions_image_idx on resolutions (image_id, id desc)`.execute(db);
  await sql`create trigger resolutions_append_only before update or delete on resolutions
    for each row execute function platina_refuse_change()`.execute(db);

  await sql`
    create table image_consensus (
      image_id bigint primary key references images(id),
      status text not null check (status in ('unlabeled', 'pending', 'needs_lead', 'resolved')),
      verdict text check (verdict in ('normal', 'abnormal')),
      anomalies text[] not null default '{}',
      method text check (method in ('unanimous', 'majority', 'lead')),
      normal_votes integer not null default 0,
      abnormal_votes integer not null default 0,
      votes_needed integer not null default 0,
      resolved_by bigint references users(id),
      reason text,
      resolved_at timestamptz,
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index image_consensus_status_idx on image_consensus (status, image_id)`.execute(db);

  await sql`
    create table queue_leases (
      image_id bigint not null references images(id),
      user_id bigint not null references users(id),
      expires_at timestamptz not null,
      primary key (image_id, user_id)
    )`.execute(db);
  await sql`create index queue_leases_expiry_idx on queue_leases (image_id, expires_at)`.execute(db);

  await sql`
    create table settings (
      key text primary key,
      value jsonb not null,
      updated_at timestamptz not null default now(),
      updated_by bigint references users(id)
    )`.execute(db);

  await sql`
    create table jobs (
      id bigint generated always as identity primary key,
      kind text not null,
      payload jsonb not null default '{}',
      status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
      progress real not null default 0,
      message text not null default '',
      attempts integer not null default 0,
      max_attempts integer not null default 3,
      run_at timestamptz not null default now(),
      locked_by text,
      locked_at timestamptz,
      last_error text,
      result jsonb,
      created_by bigint references users(id),
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz
    )`.execute(db);
  await sql`create index jobs_claim_idx on jobs (run_at, id) where status = 'queued'`.execute(db);

  await sql`
    create table model_versions (
      id bigint generated always as identity primary key,
      created_at timestamptz not null default now(),
      method smallint not null check (method between 1 and 4),
      backbone_hash text not null,
      backbone_kind text not null check (backbone_kind in ('torchvision', 'untrained', 'custom')),
      input_height integer not null,
      input_width integer not null,
      settings jsonb not null,
      label_snapshot_hash text not null,
      trained_on_images integer not null,
      trained_on_bundles integer not null,
      cross_validation jsonb,
      head_weights bytea not null,
      job_id bigint references jobs(id)
    )`.execute(db);
  await sql`create trigger model_versions_append_only before update or delete on model_versions
    for each row execute function platina_refuse_change()`.execute(db);

  await sql`
    create table model_activations (
      id bigint generated always as identity primary key,
      model_version bigint not null references model_versions(id),
      activated_by bigint references users(id),
      reason text not null,
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table predictions (
      model_version bigint not null references model_versions(id),
      image_id bigint not null references images(id),
      p_abnormal double precision not null,
      anomalies jsonb not null default '[]',
      priority double precision not null default 0,
      reason text not null default '',
      created_at timestamptz not null default now(),
      primary key (model_version, image_id)
    )`.execute(db);
  await sql`create index predictions_image_idx on predictions (image_id)`.execute(db);

  await sql`
    create table embeddings (
      sha256 text not null,
      backbone_hash text not null,
      input_size text not null,
      method smallint not null check (method between 1 and 4),
      flip smallint not null check (flip between 0 and 3),
      vector bytea not null,
      created_at timestamptz not null default now(),
      primary key (sha256, backbone_hash, input_size, method, flip)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'embeddings',
    'predictions',
    'model_activations',
    'model_versions',
    'jobs',
    'settings',
    'queue_leases',
    'image_consensus',
    'resolutions',
    'votes',
    'anomaly_types',
    'images',
    'bundles',
    'sessions',
    'users',
  ]) {
    await db.schema.dropTable(t).execute();
  }
  await sql`drop function platina_refuse_change()`.execute(db);
}
