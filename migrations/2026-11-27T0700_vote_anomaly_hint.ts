import { sql, type Kysely } from 'kysely';

/**
 * The anomaly-type pre-labels (issue 7): where model hints are enabled, the expert's form pre-selects the types the
 * model finds likely, and the vote records which ones it pre-selected — beside `model_hint_shown`, which records
 * that P(abnormal) was shown — so bias analysis can tell an expert's own types from accepted suggestions.
 * `anomaly_hint`: null when no type hint was shown; otherwise the pre-selected codes (possibly none).
 * Nullable without a default: adding it rewrites no vote row (votes are append-only).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table votes add column anomaly_hint text[]`.execute(db);
  await sql`alter table votes add constraint votes_anomaly_hint_with_model_hint
    check (anomaly_hint is null or model_hint_shown)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table votes drop constraint votes_anomaly_hint_with_model_hint`.execute(db);
  await sql`alter table votes drop column anomaly_hint`.execute(db);
}
