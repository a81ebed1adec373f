import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.ts';

/**
 * A transaction whose commit does not wait for its WAL flush (`synchronous_commit = off` for it alone),
 * for writes that may be lost in a crash without harm — a queue lease is a soft reservation: losing the
 * last moments of leases only means an image may go to a second expert. Begun with one round trip
 * (`begin` and the setting sent together as one simple-protocol message) instead of Kysely's two.
 * `fn` gets a Kysely bound to the transaction's connection; a throw rolls it back.
 */
export function softTransaction<T>(db: Kysely<DB>, fn: (tx: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (tx) => {
    await sql.raw('begin; set local synchronous_commit = off').execute(tx);
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
