import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../../lib/db/connect.ts';
import { openTestDatabase } from '../../../test/databases.ts';
import { PINNED_BOUNDS_SETTING } from '../../../lib/dataset/bounds.ts';
import * as repo from './repository.ts';

/**
 * What the runner learns from and scores (issue 15): excluded images are never trained on, scored, embedded or given
 * evidence, and method 2's bounds come from included images — or from the lead's pin.
 */
let database: Database;
let ids: { normal: string; abnormal: string; wrong: string; fresh: string };

before(async () => {
  database = await openTestDatabase();
  const db = database.db;
  const { id: bundleId } = await db
    .insertInto('bundles')
    .values({ name: 'runner-x' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const { id: userId } = await db
    .insertInto('users')
    .values({ username: 'lead-x', password_hash: 'x', role: 'lead' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const image = async (name: string, lo: number, hi: number) =>
    (
      await db
        .insertInto('images')
        .values({
          bundle_id: bundleId,
          name,
          sha256: name.padEnd(64, '0'),
          byte_size: 1000,
          width: 10,
          height: 10,
          bit_depth: 16,
          px_min: lo,
          px_max: hi,
          p0_01: lo,
          p99_99: hi,
          histogram: [],
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  ids = {
    normal: await image('a', 1749, 2790),
    abnormal: await image('b', 1800, 27960),
    wrong: await image('c', 300, 65500),
    fresh: await image('d', 2000, 2500),
  };
  const resolved = (imageId: string, verdict: 'normal' | 'abnormal') => ({
    image_id: imageId,
    status: 'resolved' as const,
    verdict,
    method: 'unanimous' as const,
  });
  await db
    .insertInto('image_consensus')
    .values([
      resolved(ids.normal, 'normal'),
      resolved(ids.abnormal, 'abnormal'),
      resolved(ids.wrong, 'abnormal'),
    ])
    .execute();
  await db
    .insertInto('image_exclusions')
    .values({ image_id: ids.wrong, user_id: userId, action: 'exclude', reason: 'test exposure' })
    .execute();
});
after(() => database?.close());

describe('the runner and excluded images', () => {
  test('training reads the resolved included images only', async () => {
    const labels = await repo.resolvedImages(database.db);
    assert.deepEqual(
      labels.map((l) => [l.id, l.verdict]),
      [
        [ids.normal, 'normal'],
        [ids.abnormal, 'abnormal'],
      ],
    );
    assert.deepEqual(await repo.labeledPerBundle(database.db), [['runner-x', 2]]);
  });

  test('scoring, embedding and evidence skip them, even when asked by id', async () => {
    const all = (await repo.imagesById(database.db)).map((i) => i.id);
    assert.deepEqual(all, [ids.normal, ids.abnormal, ids.fresh]);
    assert.deepEqual(await repo.imagesById(database.db, [ids.wrong]), []);
    assert.ok(!(await repo.imagesWithoutEvidence(database.db, 'v-test', 100)).includes(ids.wrong));
    assert.ok(!(await repo.imagesUnscoredBy(database.db, '0', 100)).includes(ids.wrong));
    const notEmbedded = await repo.imagesNotEmbedded(
      database.db,
      { backboneHash: 'x', inputSize: '64x32', method: 2 },
      100,
    );
    assert.ok(!notEmbedded.includes(ids.wrong));
  });

  test("method 2's bounds come from included images, then from the pin", async () => {
    assert.deepEqual(await repo.datasetBounds(database.db), new Map([[16, { lo: 1700, hi: 28000 }]]));
    await database.db
      .insertInto('settings')
      .values({ key: PINNED_BOUNDS_SETTING, value: JSON.stringify({ 16: { lo: 1500, hi: 30000 } }) })
      .execute();
    assert.deepEqual(await repo.datasetBounds(database.db), new Map([[16, { lo: 1500, hi: 30000 }]]));
  });
});
