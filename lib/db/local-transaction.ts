import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.ts';

/**
 * Settings a transaction may take for itself alone (`SET LOCAL`), each limited to the value we use, so
 * no caller can send an arbitrary setting or value.
 */
export interface LocalSettings {
  /**
   * 'off': the commit does not wait for its WAL flush — for writes a crash may lose without harm (a queue
   * lease is a soft reservation: losing the last moments of leases only means an image may go to a second
   * expert).
   */
  synchronous_commit?: 'off';
  /**
   * 'force_generic_plan': PREPARED statements (prepared.ts) run on their connection's one generic plan
   * instead of being planned again for every call. PostgreSQL's own choice keeps planning a statement
   * afresh whenever its custom plans look cheaper than the generic one, and for the queue's candidate
   * query that planning costs more than running it. Only for transactions whose statements all have
   * plans that do not depend on their parameters' values (ids, no LIMIT parameters).
   */
  plan_cache_mode?: 'force_generic_plan';
}

/**
 * A transaction with `settings` for it alone, begun with one round trip (`begin` and the settings sent
 * together as one simple-protocol message) instead of Kysely's two or more. `fn` gets a Kysely bound to
 * the transaction's connection; a throw rolls it back and is rethrown.
 */
export function localTransaction<T>(
  db: Kysely<DB>,
  settings: LocalSettings,
  fn: (tx: Kysely<DB>) => Promise<T>,
): Promise<T> {
  // Keys and values come from the LocalSettings type's literals, never from input.
  const begin = ['begin', ...Object.entries(settings).map(([key, value]) => `set local ${key} = ${value}`)];
  return db.connection().execute(async (tx) => {
    await sql.raw(begin.join('; ')).execute(tx);
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      await sql.raw('rollback').execute(tx);
      throw error;
    }
    await sql.raw('commit').execute(tx);
    return result;
  });
}
