import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Database } from '../../../lib/db/connect.ts';
import { openTestDatabase, testDbKind } from '../../../test/databases.ts';
import {
  buildImages,
  buildSignedInUsers,
  buildVotes,
  type FactoryUser,
} from '../../../test/factories/votes.ts';
import { claimFirstOpen, openFor } from './queue.repository.ts';

/**
 * `platina_claim` (migration 1100): the queue's lease of the first free, still-open candidate, in one call.
 */
let database: Database;
let experts: FactoryUser[];

before(async () => {
  database = await openTestDatabase();
  experts = await buildSignedInUsers(database.db, 'expert', 4, 'claim');
});
after(() => database?.close());

const db = () => database.db;
/** The claim on its own: the leased image's id, or null. */
const claim = async (ids: string[], userId: string, votesRequired: number) =>
  (
    await sql<{ id: string | null }>`select (${claimFirstOpen(ids, userId, votesRequired)}) as id`.execute(
      db(),
    )
  ).rows[0]!.id;
const leasesOf = async (imageId: string) =>
  (
    await sql<{ user_id: string }>`select user_id::text from queue_leases where image_id = ${imageId}
      order by user_id`.execute(db())
  ).rows.map((r) => r.user_id);

describe('platina_claim', () => {
  test("re-checks exactly the candidate query's predicate (a change to openFor needs a migration)", async () => {
    const predicate = openFor(sql.raw('p_user'), sql.raw('p_votes_required')).compile(db()).sql;
    const [{ body }] = (
      await sql<{ body: string }>`select prosrc as body from pg_proc where proname = 'platina_claim'`.execute(
        db(),
      )
    ).rows;
    const words = (s: string) => s.replace(/\s+/g, ' ').trim();
    assert.ok(
      words(body).includes(words(predicate)),
      'platina_claim no longer checks what openFor says: write a migration that re-creates it',
    );
  });

  test('leases the first candidate still open for the expert, passing over closed ones', async () => {
    const [voted, open, later] = await buildImages(db(), { bundle: 'claim-open', count: 3 });
    const [e] = experts;
    await buildVotes(db(), [{ imageId: voted, userId: e.id, verdict: 'normal' }]);
    assert.equal(await claim([voted, open, later], e.id, 3), open);
    assert.deepEqual(await leasesOf(open), [e.id]);
    assert.deepEqual(await leasesOf(later), [], 'one lease, not one per candidate');
  });

  test('leases no image beyond the votes it still needs, and answers null when nothing is open', async () => {
    const [img] = await buildImages(db(), { bundle: 'claim-full', count: 1 });
    const [a, b, c] = experts;
    assert.equal(await claim([img], a.id, 2), img);
    assert.equal(await claim([img], b.id, 2), img);
    assert.equal(await claim([img], c.id, 2), null);
    assert.deepEqual(await leasesOf(img), [a.id, b.id].sort());
  });

  test("a repeated claim extends the expert's lease and drops their expired ones", async () => {
    const [old, img] = await buildImages(db(), { bundle: 'claim-renew', count: 2 });
    const [, , , e] = experts;
    await sql`insert into queue_leases (image_id, user_id, expires_at)
      values (${old}, ${e.id}, now() - interval '1 minute'), (${img}, ${e.id}, now() + interval '1 minute')`.execute(
      db(),
    );
    assert.equal(await claim([img], e.id, 3), img);
    const [{ minutes }] = (
      await sql<{ minutes: number }>`select extract(epoch from expires_at - now()) / 60 as minutes
        from queue_leases where image_id = ${img} and user_id = ${e.id}`.execute(db())
    ).rows;
    assert.ok(minutes > 9 && minutes <= 10, `lease renewed to 10 minutes, not ${minutes}`);
    assert.deepEqual(await leasesOf(old), []);
  });

  test(
    'skips a candidate another transaction holds, without waiting',
    { skip: testDbKind() !== 'postgres' && 'the embedded database runs one transaction at a time' },
    async () => {
      const [held, free] = await buildImages(db(), { bundle: 'claim-held', count: 2 });
      const [e] = experts;
      let release!: () => void;
      const holding = db()
        .transaction()
        .execute(async (tx) => {
          await sql`select id from images where id = ${held} for update`.execute(tx);
          await new Promise<void>((resolve) => (release = resolve));
        });
      while (!release) await new Promise((r) => setTimeout(r, 5));
      try {
        assert.equal(await claim([held, free], e.id, 3), free);
        assert.equal(await claim([held], e.id, 3), null);
      } finally {
        release();
        await holding;
      }
    },
  );
});
