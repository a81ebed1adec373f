import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Database } from './connect.ts';
import { openTestDatabase } from '../../test/databases.ts';
import { PREPARED } from './prepared.ts';
import { softTransaction } from './soft-transaction.ts';

let database: Database;
before(async () => {
  database = await openTestDatabase();
});
after(() => database?.close());

const bundles = async () =>
  (await sql<{ name: string }>`select name from bundles order by name`.execute(database.db)).rows.map(
    (r) => r.name,
  );
const setting = async (db = database.db) =>
  (await sql<{ v: string }>`select current_setting('synchronous_commit') as v`.execute(db)).rows[0]!.v;

describe('softTransaction', () => {
  test('commits what its function wrote, with synchronous_commit off inside only', async () => {
    const inside = await softTransaction(database.db, async (tx) => {
      await sql`insert into bundles (name) values ('soft-kept')`.execute(tx);
      return setting(tx);
    });
    assert.equal(inside, 'off');
    assert.equal(await setting(), 'on', 'the pooled connection is back to the default');
    assert.ok((await bundles()).includes('soft-kept'));
  });

  test('rolls back everything when its function throws, and rethrows', async () => {
    await assert.rejects(
      softTransaction(database.db, async (tx) => {
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
