import { sql, type Kysely, type RawBuilder } from 'kysely';
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
 * together as one simple-protocol message) instead of Kysely's two or more. `opening`: a read without
 * parameters sent in that same message (so it costs no round trip of its own, and is planned afresh each
 * time, which suits only a cheap statement); `fn` gets its rows. `fn` gets a Kysely bound to the
 * transaction's connection; a throw rolls it back and is rethrown.
 */
export async function localTransaction<T, R = never>(
  db: Kysely<DB>,
  settings: LocalSettings,
  fn: (tx: Kysely<DB>, opened: R[]) => Promise<T>,
  opening?: RawBuilder<R>,
): Promise<T> {
  // Keys and values come from the LocalSettings type's literals, never from input.
  const statements = [
    'begin',
    ...Object.entries(settings).map(([key, value]) => `set local ${key} = ${value}`),
  ];
  if (opening) {
    const read = opening.compile(db);
    if (read.parameters.length > 0) throw new Error('localTransaction: the opening read takes no parameters');
    statements.push(read.sql);
  }
  return db.connection().execute(async (tx) => {
    const begun = await sql.raw<R>(statements.join('; ')).execute(tx);
    let result: T;
    try {
      result = await fn(tx, opening ? begun.rows : []);
    } catch (error) {
      await sql.raw('rollback').execute(tx);
      throw error;
    }
    await sql.raw('commit').execute(tx);
    return result;
  });
}
