import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openEmbedded, openPostgres, type Database } from './connect.ts';
import { openTestDatabase, testDbKind } from '../../test/databases.ts';
import { PREPARED } from './prepared.ts';
import { localTransaction } from './local-transaction.ts';

let database: Database;
before(async () => {
  database = await openTestDatabase();
});
after(() => database?.close());

const bundles = async () =>
  (await sql<{ name: string }>`select name from bundles order by name`.execute(database.db)).rows.map(
    (r) => r.name,
  );
const setting = async (db = database.db, name = 'synchronous_commit') =>
  (await sql<{ v: string }>`select current_setting(${name}) as v`.execute(db)).rows[0]!.v;

const LOCAL = { synchronous_commit: 'off', plan_cache_mode: 'force_generic_plan' } as const;

describe('localTransaction', () => {
  test('commits what its function wrote, with its settings inside only', async () => {
    const inside = await localTransaction(database.db, LOCAL, async (tx) => {
      await sql`insert into bundles (name) values ('soft-kept')`.execute(tx);
      return [await setting(tx), await setting(tx, 'plan_cache_mode')];
    });
    assert.deepEqual(inside, ['off', 'force_generic_plan']);
    assert.equal(await setting(), 'on', 'the pooled connection is back to the default');
    assert.equal(await setting(database.db, 'plan_cache_mode'), 'auto');
    assert.ok((await bundles()).includes('soft-kept'));
  });

  test('hands its function the rows of an opening read sent with its begin, inside the transaction', async () => {
    const [opened, txid] = await localTransaction(
      database.db,
      LOCAL,
      async (tx, rows) => [
        rows,
        (await sql<{ x: string }>`select txid_current()::text as x`.execute(tx)).rows[0]!.x,
      ],
      sql<{ answer: number; txid: string }>`select 41 + 1 as answer, txid_current()::text as txid`,
    );
    assert.deepEqual(opened, [{ answer: 42, txid }], 'one row, read in the transaction itself');
  });

  test('refuses an opening read with parameters (it travels in the simple protocol)', async () => {
    await assert.rejects(
      localTransaction(database.db, LOCAL, async () => 1, sql`select ${1}::int`),
      /takes no parameters/,
    );
  });

  test('rolls back everything when its function throws, and rethrows', async () => {
    await assert.rejects(
      localTransaction(database.db, LOCAL, async (tx) => {
        await sql`insert into bundles (name) values ('soft-dropped')`.execute(tx);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.ok(!(await bundles()).includes('soft-dropped'));
  });
});

describe('PREPARED statements', () => {
  test('answer like unprepared ones, again and again, with new parameters each time', async () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7]) {
      const r = await sql<{ twice: number }>`${PREPARED} select ${n}::int * 2 as twice`.execute(database.db);
      assert.equal(r.rows[0]!.twice, n * 2);
    }
  });

  test('are kept by the connection that ran them (parsed once); unmarked ones are not', async () => {
    const kept = await database.db.connection().execute(async (conn) => {
      await sql`${PREPARED} select 'marked'::text as m`.execute(conn);
      await conn.selectFrom('bundles').modifyFront(PREPARED).select('name').where('name', '=', 'x').execute();
      await sql`select 'unmarked'::text as m`.execute(conn);
      return (
        await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(conn)
      ).rows.map((r) => r.statement);
    });
    assert.ok(kept.some((s) => s.includes("'marked'")));
    assert.ok(
      kept.some((s) => s.startsWith('select /* prepared */')),
      'a builder query marked after select',
    );
    assert.ok(!kept.some((s) => s.includes("'unmarked'")));
  });
});

describe('PREPARED statements in a force_generic_plan transaction', () => {
  test('run on one generic plan, never planned again for new parameter values', async () => {
    const plans = await localTransaction(
      database.db,
      { plan_cache_mode: 'force_generic_plan' },
      async (tx) => {
        for (const name of ['a', 'b', 'c', 'd'])
          await tx
            .selectFrom('bundles')
            .modifyFront(PREPARED)
            .select('id')
            .where('name', '=', name)
            .execute();
        return (
          await sql<{ generic: string; custom: string }>`
          select generic_plans::text as generic, custom_plans::text as custom from pg_prepared_statements
          where statement like 'select /* prepared */ "id" from "bundles"%'`.execute(tx)
        ).rows;
      },
    );
    assert.deepEqual(plans, [{ generic: '4', custom: '0' }]);
  });
});

describe('openPostgres', () => {
  test(
    'drops a pooled connection the server terminated while idle, reports it, and goes on',
    { skip: testDbKind() !== 'postgres' && 'the embedded database has no server to drop a connection' },
    async () => {
      const lost: Error[] = [];
      const other = openPostgres(database.url!, 1, (err) => lost.push(err));
      try {
        const pid = async () =>
          (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(other.db)).rows[0]!.pid;
        const first = await pid();
        await sql`select pg_terminate_backend(${first})`.execute(database.db);
        for (let i = 0; i < 100 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(lost.length, 1, 'the idle error reached the listener (else the process would die)');
        assert.notEqual(await pid(), first, 'the next query runs on a new connection');
      } finally {
        await other.close();
      }
    },
  );
});

describe('a pooled connection closed while idle (pool timeouts of 20 ms, so no test waits 10 s)', () => {
  // The embedded database's connections all reach one PGlite session; a real server's are sessions of
  // their own. Either way the next connection must start clean, and named statements must still run.
  const open = () =>
    testDbKind() === 'postgres'
      ? openPostgres(database.url!, 1, () => {}, { idleTimeoutMillis: 20 })
      : openEmbedded({ timeouts: { idleTimeoutMillis: 20 } });
  const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('is replaced by a fresh session that runs the same prepared statements again', async () => {
    const other = await open();
    try {
      const twice = async (n: number) =>
        (await sql<{ t: number }>`${PREPARED} select ${n}::int * 2 as t`.execute(other.db)).rows[0]!.t;
      const timeout = async () =>
        (await sql<{ v: string }>`select current_setting('statement_timeout') as v`.execute(other.db))
          .rows[0]!.v;
      assert.equal(await twice(1), 2);
      await sql`set statement_timeout = '4321ms'`.execute(other.db);
      assert.equal(await timeout(), '4321ms');
      await idle(150); // past every pool timeout
      assert.equal(await twice(2), 4, 'a named statement parsed by the dropped connection runs again');
      assert.equal(await timeout(), '0', 'the new connection is a new session: no setting carried over');
      // Queries landing just before, at and just after the timeout, when the old connection is closing
      // as the new one opens.
      for (let i = 0; i < 40; i++) {
        await idle(i % 10 === 0 ? 40 : 15 + (i % 10));
        assert.equal(await twice(i), i * 2);
      }
    } finally {
      await other.close();
    }
  });
});

describe('the embedded database', () => {
  test(
    'vacuums and analyzes itself, so a cached generic plan follows its table as it grows',
    { skip: testDbKind() !== 'pglite' && 'a real server runs autovacuum' },
    async () => {
      const db = database.db;
      await sql`create table grows (id int primary key, v text)`.execute(db);
      await sql`insert into grows select g, 'x' from generate_series(1, 5) g`.execute(db);
      await database.maintain!();
      await sql`prepare grows_by_id(int) as select v from grows where id = $1`.execute(db);
      const plan = () =>
        localTransaction(db, { plan_cache_mode: 'force_generic_plan' }, async (tx) =>
          (await sql.raw<Record<string, string>>('explain execute grows_by_id(1)').execute(tx)).rows
            .map((r) => Object.values(r)[0])
            .join('\n'),
        );
      assert.match(await plan(), /Seq Scan/, 'five rows: read the table');
      await sql`insert into grows select g, 'x' from generate_series(6, 50000) g`.execute(db);
      assert.match(await plan(), /Seq Scan/, 'the cached plan stays until the table is analyzed');
      await database.maintain!();
      assert.match(await plan(), /Index Scan/, '50 000 rows: re-planned to use the primary key');
    },
  );
});
