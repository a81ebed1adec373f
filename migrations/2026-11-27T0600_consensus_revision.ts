import { sql, type Kysely } from 'kysely';

/**
 * Votes without a held lock (the hot path of labeling):
 * - `image_consensus.revision` counts the writes of an image's consensus. A vote reads the rule's inputs
 *   with the revision, applies the rule, and writes vote + consensus in ONE statement that succeeds only
 *   if the revision is unchanged (optimistic concurrency, after the "version column" pattern); otherwise
 *   it falls back to the locked transaction. Every writer of a consensus row bumps it.
 * - The statement-level NOTIFY on image_consensus goes: a transaction that NOTIFYs takes a cluster-wide
 *   lock from its pre-commit to its end, so every vote's commit (and its WAL flush) serialised behind the
 *   previous one. Runners still wake on new jobs (jobs_notify) and poll for new labels; the API sends a
 *   debounced NOTIFY after commits that resolve images (api/src/consensus/label-notifier.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table image_consensus add column revision bigint not null default 0`.execute(db);
  await sql`drop trigger image_consensus_notify on image_consensus`.execute(db);
}
