import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../../lib/db/schema.ts';

/**
 * Tells model runners that labels changed, so "retrain after N new labels" notices soon — at most once per
 * `intervalMs` however many votes arrive (trailing: the last change of a burst is always told).
 *
 * Outside the vote's transaction on purpose: a transaction that NOTIFYs holds a cluster-wide lock from its
 * pre-commit to its end, which serialised every vote's commit when this was a trigger on image_consensus
 * (migrations/…T0600). `wakeInProcess` reaches the runner inside this process (the embedded database);
 * `notifyRunners` (PostgreSQL only) reaches runners elsewhere through LISTEN platina_jobs. Runners also
 * poll, so a NOTIFY that fails costs only latency: it is logged, not thrown.
 */
export function labelNotifier(o: {
  wakeInProcess: () => void;
  notifyRunners?: () => Promise<void>;
  logger: Logger;
  intervalMs?: number;
}): { changed: () => void; close: () => void } {
  let timer: NodeJS.Timeout | null = null;
  const fire = () => {
    timer = null;
    o.wakeInProcess();
    o.notifyRunners?.().catch((err: Error) => o.logger.warn({ err: err.message }, 'label NOTIFY failed'));
  };
  return {
    changed() {
      timer ??= setTimeout(fire, o.intervalMs ?? 250).unref();
    },
    close() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** NOTIFY platina_jobs in its own tiny transaction (no rows written, so no WAL flush to wait for). */
export function notifyRunnersOver(db: Kysely<DB>): () => Promise<void> {
  return async () => {
    await sql`select pg_notify('platina_jobs', 'image_consensus')`.execute(db);
  };
}
