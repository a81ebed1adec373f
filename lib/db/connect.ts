import fs from 'node:fs';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { DB } from './schema.ts';
import { preparingPool } from './prepared.ts';
import { acquireDirLock } from './dir-lock.ts';

export { DatabaseLockedError } from './dir-lock.ts';

export type DatabaseKind = 'embedded' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  kind: DatabaseKind;
  /** Connection string usable by a second `pg` client (e.g. a LISTEN connection). Absent for embedded. */
  url?: string;
  /**
   * Embedded only: vacuum and analyze every table now (openEmbedded also does it on a timer). A real
   * server's autovacuum does this by itself.
   */
  maintain?: () => Promise<void>;
  close(): Promise<void>;
}

/**
 * How often the embedded database vacuums and analyzes itself. PGlite is single-user PostgreSQL: no
 * autovacuum runs, so without this the rows that leases and consensus updates leave behind pile up for
 * ever, the planner never gets statistics, and the plans that prepared statements cache (prepared.ts) are
 * never re-planned as the tables grow — ANALYZE is what invalidates them. One run blocks the single
 * connection for about 0.1 s per 100 000 rows (measured on PGlite).
 */
export const EMBEDDED_MAINTENANCE_MS = 10 * 60_000;

/**
 * The pool's timeouts, for tests that need a connection dropped without waiting for the defaults
 * (pg's own: 10 s idle, no maximum lifetime; the embedded database keeps its one connection).
 */
export interface PoolTimeouts {
  /** Close a pooled connection idle this long (ms); 0 never does. */
  idleTimeoutMillis?: number;
  /** Close a pooled connection this old (s) once it is idle; 0 never does. */
  maxLifetimeSeconds?: number;
}

/**
 * Open a real PostgreSQL server. `onIdleError`: an idle pooled connection failed (the server restarted or
 * terminated it); the pool has already dropped it and the next query opens a new one. Without a
 * listener, pg's pool rethrows the error as an uncaught exception and the process dies.
 */
export function openPostgres(
  url: string,
  poolSize = 10,
  onIdleError: (error: Error) => void = () => {},
  timeouts: PoolTimeouts = {},
): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, ...timeouts });
  pool.on('error', onIdleError);
  // Platina's queries are short index walks. Some have large cost estimates (a LIMIT over a lateral
  // join: the queue's fresh images), which crosses jit_above_cost, and PostgreSQL then spends ~13 ms
  // compiling a query that runs in under 1 ms. Sent once per new connection, before its first query.
  pool.on('connect', (client) => {
    client.query('set jit = off').catch(() => {});
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  return { db, kind: 'postgres', url, close: () => db.destroy() };
}

/**
 * Open the embedded PostgreSQL (PGlite, WASM) and speak to it through pglite-socket, so every
 * query in Platina goes through the same `pg` driver and Kysely dialect as on a real server.
 *
 * PGlite is a single session. pglite-socket can multiplex several connections, but it interleaves
 * protocol messages of different connections outside transactions, which breaks pg's unnamed
 * prepared statements; so the pool holds exactly one connection and pg queues the rest. Every
 * transaction is therefore serialised — correct, and fast enough for one lab's labeling load.
 *
 * `dataDir` undefined means in-memory (tests). `loadDataDir` seeds an in-memory database from a
 * dump (the tests' migrated template).
 */
export async function openEmbedded(opts: {
  dataDir?: string;
  loadDataDir?: Blob;
  /** A timed maintenance run failed (the next one is tried all the same). */
  onMaintenanceError?: (error: Error) => void;
  timeouts?: PoolTimeouts;
}): Promise<Database & { pglite: PGlite; maintain: () => Promise<void> }> {
  let releaseLock = () => {};
  if (opts.dataDir) {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    releaseLock = acquireDirLock(opts.dataDir);
  }
  try {
    const pglite = await PGlite.create({
      dataDir: opts.dataDir,
      loadDataDir: opts.loadDataDir,
    });
    // The pool below holds one connection, but the server admits two: when the pool closes its connection
    // and at once opens a new one, the server may see the new socket before it has processed the old
    // one's close, and with one slot it answered "Too many connections" (pg: "Connection terminated
    // unexpectedly"). The old socket is idle by then (the pool closes only released clients, and a
    // client dropped mid-transaction is rolled back by pglite-socket before the session serves another).
    const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 2 });
    await server.start();
    const [host, port] = server.getServerConn().split(':');
    // Every connection reaches the same PGlite session: what one connection leaves there (the named
    // statements of prepared.ts, session settings, advisory locks, LISTENs) the next one finds. On a
    // real server a new connection is a new session; here it is made one by DISCARD ALL, sent before
    // the connection's first query (the pool emits 'connect' before it hands the client out, and a
    // client runs its queries in order). Without it, the first named statement on a new connection
    // fails with "prepared statement … already exists" — after pg's 10 s idle timeout had dropped the
    // connection, every hot route answered 500. The connection is also kept while idle (timeout 0): a
    // reconnect buys nothing against an in-process database.
    const pool = new pg.Pool({
      host,
      port: Number(port),
      user: 'postgres',
      database: 'postgres',
      max: 1,
      idleTimeoutMillis: 0,
      ...opts.timeouts,
    });
    pool.on('connect', (client) => {
      // A connection that cannot run it cannot run the queries queued behind it either: they fail alike.
      client.query('discard all').catch(() => {});
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
    // Through the pool, so it queues behind the queries in flight like any other statement.
    const maintain = async () => {
      await sql`vacuum analyze`.execute(db);
    };
    const timer = setInterval(
      () => void maintain().catch((err: Error) => opts.onMaintenanceError?.(err)),
      EMBEDDED_MAINTENANCE_MS,
    ).unref();
    return {
      db,
      kind: 'embedded',
      pglite,
      maintain,
      async close() {
        clearInterval(timer);
        await db.destroy();
        await server.stop();
        await pglite.close();
        releaseLock();
      },
    };
  } catch (err) {
    releaseLock();
    throw err;
  }
}
