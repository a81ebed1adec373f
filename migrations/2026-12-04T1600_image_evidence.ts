import { sql, type Kysely } from 'kysely';

/**
 * Evidence (model-runner/src/evidence): fixed, generic image evidence beside the ResNet-34 embedding.
 * - `image_evidence`: one evidence vector and one low-resolution heatmap per image file (sha256) and evidence
 *   definition (`version`), computed by the runner as soon as an image is stored — no label, no model needed.
 *   Keyed like `embeddings` by content, so a re-uploaded file reuses it.
 * - `image_unusualness`: per image, how far its evidence lies from the normal images (a robust density model fit
 *   on all images before any label, on consensus-normal ones afterwards) and its rank in its bundle; the queue
 *   orders by it before the first model, and a lead reads its reason ("top 3 % of residual energy in bundle-04").
 *   Current state, replaced on each refit (derived, not a fact: the evidence it comes from is kept).
 * - `model_versions.features`: what the head saw ('paper' | 'evidence' | 'fused'), and the evidence definition it
 *   was trained on; promotion compares a candidate only with models of the same features.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table image_evidence (
      sha256 text not null,
      version text not null,
      vector bytea not null,
      heatmap bytea not null,
      heatmap_width smallint not null check (heatmap_width > 0),
      heatmap_height smallint not null check (heatmap_height > 0),
      created_at timestamptz not null default now(),
      primary key (version, sha256)
    )`.execute(db);
  await sql`
    create table image_unusualness (
      image_id bigint primary key references images(id),
      version text not null,
      score double precision not null,
      bundle_percentile double precision not null,
      reason text not null,
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index image_unusualness_score_idx on image_unusualness (score desc, image_id)`.execute(db);
  await sql`alter table model_versions add column features text not null default 'paper'`.execute(db);
  await sql`alter table model_versions add column evidence_version text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table model_versions drop column evidence_version`.execute(db);
  await sql`alter table model_versions drop column features`.execute(db);
  await sql`drop table image_unusualness`.execute(db);
  await sql`drop table image_evidence`.execute(db);
}
