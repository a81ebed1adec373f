import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import type { Verdict } from '../../../lib/db/schema.ts';
import { cohenKappa, fleissKappa, krippendorffAlphaNominal } from '../../../lib/consensus/agreement.ts';
import {
  buildImages,
  buildSignedInUsers,
  buildVotes,
  type FactoryUser,
} from '../../../test/factories/votes.ts';

let app: TestApp;
let lead: FactoryUser;
let experts: FactoryUser[];

// Bundle "mixed": 4 images × 3 experts, plus one image with only two votes. Bundle "calm": all agree.
const MIXED: [Verdict, Verdict, Verdict | null][] = [
  ['normal', 'normal', 'normal'],
  ['abnormal', 'abnormal', 'abnormal'],
  ['abnormal', 'abnormal', 'normal'],
  ['normal', 'normal', 'abnormal'],
  ['abnormal', 'normal', null],
];

before(async () => {
  app = await startTestApp();
  const db = app.server.services.db;
  experts = await buildSignedInUsers(db, 'expert', 3);
  [lead] = await buildSignedInUsers(db, 'lead', 1);
  const mixed = await buildImages(db, { bundle: 'mixed', count: MIXED.length });
  const calm = await buildImages(db, { bundle: 'calm', count: 2 });
  const votes = mixed.flatMap((imageId, i) =>
    MIXED[i].flatMap((verdict, e) =>
      verdict ? [{ imageId, userId: experts[e].id, verdict, anomalies: i < 2 ? ['bubbles'] : [] }] : [],
    ),
  );
  for (const imageId of calm)
    for (const e of experts) votes.push({ imageId, userId: e.id, verdict: 'normal', anomalies: [] });
  await buildVotes(db, votes);
});
after(() => app?.close());

const agreement = (query = '') => app.request('GET', `/api/metrics/agreement${query}`, { token: lead.token });

describe('GET /api/metrics/agreement', () => {
  test('computes Fleiss (equal vote counts only), Krippendorff (all images) and per-expert figures for a bundle', async () => {
    const r = await agreement('?bundle=mixed');
    assert.equal(r.status, 200);
    assert.equal(r.body.images, 5);
    assert.equal(r.body.votes, 14);
    // Fleiss over the four images with three votes; rows are (normal, abnormal) counts.
    assert.equal(
      r.body.fleissKappa,
      fleissKappa([
        [3, 0],
        [0, 3],
        [1, 2],
        [2, 1],
      ]),
    );
    assert.deepEqual(r.body.fleiss, { images: 4, votesPerImage: 3, excluded: 1 });
    assert.equal(
      r.body.krippendorffAlpha,
      krippendorffAlphaNominal(MIXED.map((row) => row.filter((v): v is Verdict => v !== null))),
    );
    // Expert 3 against the consensus of the four resolved images: n/n, a/a, n/a, a/n.
    const third = r.body.perExpert.find((p: any) => p.user.id === experts[2].id);
    assert.equal(third.votes, 4);
    assert.equal(third.agreementWithConsensus, 0.5);
    assert.equal(
      third.cohenKappaWithConsensus,
      cohenKappa([
        ['normal', 'normal'],
        ['abnormal', 'abnormal'],
        ['normal', 'abnormal'],
        ['abnormal', 'normal'],
      ]),
    );
    assert.ok(third.dawidSkene.accuracy > 0 && third.dawidSkene.accuracy < 1);
    // Against the other two alone: images 3 and 4 (the others agree, expert 3 does not), 1 and 2 (all agree);
    // image 5 has no vote of expert 3.
    assert.deepEqual(third.withOthers, { images: 4, agreement: 0.5, kappa: third.cohenKappaWithConsensus });
    // Four or five votes each: too few to judge anyone against the panel.
    assert.deepEqual(
      r.body.perExpert.map((p: any) => p.belowPanel),
      [[], [], []],
    );
    assert.equal(r.body.perAnomaly.length, 11);
    const bubbles = r.body.perAnomaly.find((p: any) => p.code === 'bubbles');
    assert.equal(bubbles.fleissKappa, 1);
    const scratches = r.body.perAnomaly.find((p: any) => p.code === 'scratches');
    assert.equal(scratches.fleissKappa, null, 'never marked: undefined, not NaN');
  });

  test('returns null, not NaN, when everyone always agrees on one verdict', async () => {
    const r = await agreement('?bundle=calm');
    assert.equal(r.status, 200);
    assert.equal(r.body.fleissKappa, null);
    assert.equal(r.body.krippendorffAlpha, null);
    for (const p of r.body.perExpert) {
      assert.equal(p.agreementWithConsensus, 1);
      assert.equal(p.cohenKappaWithConsensus, null);
    }
    assert.doesNotMatch(r.text, /NaN/);
  });

  test('covers every bundle without a filter; an unknown bundle → 404; experts → 403', async () => {
    const all = await agreement();
    assert.equal(all.body.images, 7);
    const missing = await agreement('?bundle=nope');
    assert.equal(missing.status, 404);
    assert.match(missing.body.detail, /no bundle named "nope"/);
    const forbidden = await app.request('GET', '/api/metrics/agreement', { token: experts[0].token });
    assert.equal(forbidden.status, 403);
  });
});
