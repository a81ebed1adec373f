import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openEmbedded, openPostgres, type Database, type PoolTimeouts } from '../lib/db/connect.ts';
import { migrateToLatest, migrationsFingerprint } from '../lib/db/migrate.ts';

/**
 * One fresh database per test file, cloned from a migrated template (migrations run once per
 * schema version, not once per test): `CREATE DATABASE … TEMPLATE …` on PostgreSQL, a dumped
 * data directory loaded into an in-memory PGlite on the embedded database.
 */
export type TestDbKind = 'pglite' | 'postgres';

export function testDbKind(): TestDbKind {
  const v = process.env.PLATINA_TEST_DB ?? 'pglite';
  if (v !== 'pglite' && v !== 'postgres')
    throw new Error(`PLATINA_TEST_DB must be pglite or postgres, not ${v}`);
  return v;
}

export const TEST_PG_URL = process.env.PLATINA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** `timeouts`: the pool's, shortened by tests that need a connection dropped while idle. */
export async function openTestDatabase(kind = testDbKind(), timeouts?: PoolTimeouts): Promise<Database> {
  return kind === 'postgres' ? clonePostgres(timeouts) : clonePglite(timeouts);
}

async function clonePostgres(timeouts?: PoolTimeouts): Promise<Database> {
  const fp = await migrationsFingerprint();
  const template = `platina_tpl_${fp}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  const name = `platina_t_${randomBytes(6).toString('hex')}`;
  try {
    // Serialise template creation across the parallel test processes.
    await admin.query('select pg_advisory_lock(727274)');
    try {
      const exists = await admin.query('select 1 from pg_database where datname = $1', [template]);
      if (exists.rowCount === 0) {
        const building = `${template}_building`;
        await admin.query(`drop database if exists ${building}`);
        await admin.query(`create database ${building}`);
        const tpl = openPostgres(withDatabase(TEST_PG_URL, building), 1);
        await migrateToLatest(tpl.db);
        await tpl.close();
        await admin.query(`alter database ${building} rename to ${template}`);
      }
    } finally {
      await admin.query('select pg_advisory_unlock(727274)');
    }
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  const database = openPostgres(withDatabase(TEST_PG_URL, name), 10, undefined, timeouts);
  return {
    ...database,
    url: withDatabase(TEST_PG_URL, name),
    async close() {
      await database.close();
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`).catch(() => {});
      await c.end();
    },
  };
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function clonePglite(timeouts?: PoolTimeouts): Promise<Database> {
  const fp = await migrationsFingerprint();
  const file = path.join(os.tmpdir(), `platina-pglite-template-${fp}.tar`);
  if (!fs.existsSync(file)) {
    const lock = `${file}.lock`;
    let mine = false;
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      mine = true;
    } catch {
      // Another test process is building it: wait for the file (or for a stale lock to go).
      const deadline = Date.now() + 180_000;
      while (!fs.existsSync(file) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        if (!fs.existsSync(lock)) break;
      }
    }
    if (mine || !fs.existsSync(file)) {
      try {
        const fresh = await openEmbedded({});
        await migrateToLatest(fresh.db);
        const dump = await fresh.pglite.dumpDataDir('none');
        await fresh.close();
        const tmp = `${file}.${process.pid}`;
        fs.writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
        fs.renameSync(tmp, file);
      } finally {
        if (mine) fs.rmSync(lock, { force: true });
      }
    }
  }
  return openEmbedded({ loadDataDir: new Blob([fs.readFileSync(file)]), timeouts });
}

/** True when a PostgreSQL server answers at TEST_PG_URL. */
export async function postgresAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}
