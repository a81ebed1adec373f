import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * Prepared statements for the hot paths (a vote, the next image). Kysely sends every query as an unnamed
 * statement, which PostgreSQL parses and plans afresh each time; for the queue's candidate query that
 * planning costs more than running it (2.8 ms of planning beside 1.5–2.4 ms of execution on 100 000
 * images: 5.3 ms a call unnamed, 1.2 ms prepared, measured on the queue benchmark's database). A
 * statement marked PREPARED is sent as a named statement: each connection
 * parses it once and PostgreSQL's plan cache takes over. Left to itself, PostgreSQL may still plan it
 * afresh on every call (it did for the candidate query: its custom plans looked cheaper than the generic
 * one); a transaction that sets `plan_cache_mode = force_generic_plan` (local-transaction.ts) runs its
 * prepared statements on one generic plan per connection instead.
 *
 * The mark goes first in a `sql` template (sql`${PREPARED} select …`), or after a builder's `select`
 * keyword (`.modifyFront(PREPARED)`). Only statements with a bounded set of texts may carry it (values as
 * parameters, lists as one array parameter), so the number of statements a connection keeps stays about
 * the number of marked queries in the code.
 *
 * pg remembers per client which names it has parsed, so a new client parses each one again: the session
 * behind a new connection must not hold them yet. On a real server it never does; the embedded database's
 * connections share one session, which openEmbedded (connect.ts) resets with DISCARD ALL on connect.
 */
const MARK = '/* prepared */';
export const PREPARED = sql.raw(MARK);

/** Marked: the mark opens the statement, or follows its first keyword (after `select `). */
function isMarked(text: string): boolean {
  const at = text.indexOf(MARK);
  return at !== -1 && at <= 'select '.length;
}

/** The pool Kysely uses: marked statements go out named (by a hash of their text), the rest as before. */
export function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      // The pool listens for errors of idle clients only. A checked-out client between two statements (a
      // transaction awaiting the application) whose connection the server ends — a restart,
      // pg_terminate_backend — emits 'error' with no listener, which crashed the process. Its next query
      // fails on its own; here the error is noted, and the client is destroyed on release, not reused.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      return {
        query: (async (text: unknown, values?: readonly unknown[]) => {
          if (typeof text === 'string' && isMarked(text))
            return client.query({ name: statementName(text), text, values: values as unknown[] });
          const result: pg.QueryResult | pg.QueryResult[] = await client.query(
            text as string,
            values as unknown[],
          );
          // Several statements in one simple-protocol message answer with one result each; Kysely reads
          // one, so it gets the last (as psql shows it): local-transaction.ts opens with a read that way.
          return Array.isArray(result) ? result[result.length - 1] : result;
        }) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => {
          client.off('error', onError);
          client.release(destroy || broken);
        },
      };
    },
    end: () => pool.end(),
  };
}

const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `platina_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}
