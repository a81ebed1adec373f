import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import { decideConsensus, type Verdict } from '../../../lib/consensus/rule.ts';
import { ANOMALY_CODES } from '../../../lib/anomaly-types.ts';
import { buildImages, buildSignedInUsers, type FactoryUser } from '../../../test/factories/votes.ts';

const EXPERTS = 50;
const IMAGES = 8;
const VOTES_PER_EXPERT = 3;

let app: TestApp;
let experts: FactoryUser[];
let images: string[];

before(async () => {
  app = await startTestApp();
  experts = await buildSignedInUsers(app.server.services.db, 'expert', EXPERTS);
  images = await buildImages(app.server.services.db, { bundle: 'burst', count: IMAGES });
  // Adaptive overlap on, so the burst crosses every branch of the rule.
  const r = await app.request('PUT', '/api/settings', {
    token: app.admin.token,
    json: { votesRequired: 3, votesMax: 5 },
  });
  assert.equal(r.status, 200);
});
after(() => app?.close());

/** Seeded choices, so a failure replays. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('50 experts voting at once', () => {
  test('every acknowledged vote is stored, each expert has one current vote per image, consensus = rule(stored votes)', async () => {
    const random = rng(42);
    // Each expert votes VOTES_PER_EXPERT times in sequence (as a person clicks), on a few images and
    // sometimes the same image again; all 50 experts run at the same time.
    const plans = experts.map((expert) =>
      Array.from({ length: VOTES_PER_EXPERT }, () => ({
        expert,
        image: images[Math.floor(random() * 4) + (experts.indexOf(expert) % (IMAGES - 3))],
        verdict: (random() < 0.5 ? 'normal' : 'abnormal') as Verdict,
        anomalies: ANOMALY_CODES.filter(() => random() < 0.15),
      })),
    );
    const acknowledged: { expert: FactoryUser; image: string; verdict: Verdict; anomalies: string[] }[] = [];
    const failures: string[] = [];
    await Promise.all(
      plans.map(async (plan) => {
        for (const v of plan) {
          const r = await app.request('PUT', `/api/images/${v.image}/votes/me`, {
            token: v.expert.token,
            json: { verdict: v.verdict, anomalies: v.anomalies },
          });
          if (r.status === 200) acknowledged.push(v);
          else failures.push(`${r.status} ${r.text}`);
        }
      }),
    );
    assert.deepEqual(failures, []);
    assert.equal(acknowledged.length, EXPERTS * VOTES_PER_EXPERT);

    const db = app.server.services.db;
    const stored = await db
      .selectFrom('votes')
      .select(['id', 'image_id', 'user_id', 'verdict', 'anomalies'])
      .orderBy('id')
      .execute();
    assert.equal(stored.length, acknowledged.length, 'every acknowledged vote is stored, and nothing else');

    // The current vote of each expert on each image is their last acknowledged one.
    const expectedCurrent = new Map<string, { verdict: Verdict; anomalies: string[] }>();
    for (const plan of plans) for (const v of plan) expectedCurrent.set(`${v.image}:${v.expert.id}`, v);
    const current = new Map<string, (typeof stored)[number]>();
    for (const row of stored) current.set(`${row.image_id}:${row.user_id}`, row);
    assert.equal(current.size, expectedCurrent.size);
    for (const [key, v] of expectedCurrent) {
      assert.equal(current.get(key)?.verdict, v.verdict, key);
      assert.deepEqual([...current.get(key)!.anomalies].sort(), [...v.anomalies].sort(), key);
    }

    // The stored consensus of every image is the rule applied to its stored current votes.
    const settings = { votesRequired: 3, votesMax: 5 };
    for (const image of images) {
      const votes = [...current.values()].filter((r) => r.image_id === image);
      const expected = decideConsensus(votes, null, settings);
      const r = await app.request('GET', `/api/images/${image}/consensus`, { token: app.admin.token });
      assert.equal(r.status, 200);
      assert.equal(
        r.body.status,
        expected.status === 'pending' && votes.length === 0 ? 'pending' : expected.status,
        image,
      );
      assert.deepEqual(r.body.counts, expected.counts, image);
      if (expected.status === 'resolved') {
        assert.equal(r.body.verdict, expected.verdict, image);
        assert.deepEqual(r.body.anomalies, expected.anomalies, image);
        assert.equal(r.body.method, expected.method, image);
      }
      if (expected.status === 'pending') assert.equal(r.body.votesNeeded, expected.votesNeeded, image);
    }
  });
});
