import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import type { Verdict } from '../../../lib/db/schema.ts';
import {
  buildImages,
  buildSignedInUsers,
  buildVotes,
  type FactoryUser,
} from '../../../test/factories/votes.ts';

let app: TestApp;
let lead: FactoryUser;
let careful: FactoryUser[];
let careless: FactoryUser;

// 60 plates, every fifth abnormal. Three careful experts each miss a different abnormal plate; the careless
// expert waves two of every three abnormal plates through as normal and gets every normal plate right.
const TRUTH: Verdict[] = Array.from({ length: 60 }, (_, i) => (i % 5 === 0 ? 'abnormal' : 'normal'));

before(async () => {
  app = await startTestApp();
  const db = app.server.services.db;
  careful = await buildSignedInUsers(db, 'expert', 3);
  [careless] = await buildSignedInUsers(db, 'expert', 1);
  [lead] = await buildSignedInUsers(db, 'lead', 1);
  const images = await buildImages(db, { bundle: 'panel', count: TRUTH.length });
  const abnormal = images.filter((_, i) => TRUTH[i] === 'abnormal');
  await buildVotes(
    db,
    images.flatMap((imageId, i) => [
      ...careful.map((e, k) => ({
        imageId,
        userId: e.id,
        verdict: abnormal.indexOf(imageId) === k ? ('normal' as const) : TRUTH[i],
      })),
      {
        imageId,
        userId: careless.id,
        verdict: abnormal.indexOf(imageId) % 3 === 0 ? TRUTH[i] : ('normal' as const),
      },
    ]),
  );
});
after(() => app?.close());

describe('expert reliability a lead can act on', () => {
  test('the expert who waves abnormal plates through is marked below the panel on sensitivity', async () => {
    const r = await app.request('GET', '/api/metrics/agreement', { token: lead.token });
    assert.equal(r.status, 200);
    const byId = new Map(r.body.perExpert.map((p: any) => [p.user.id, p]));
    const bad = byId.get(careless.id) as any;
    assert.deepEqual(bad.belowPanel, ['sensitivity']);
    for (const e of careful) assert.deepEqual((byId.get(e.id) as any).belowPanel, [], e.username);
    // Its Dawid–Skene sensitivity is the panel's lowest by far …
    const others = careful.map((e) => (byId.get(e.id) as any).dawidSkene.sensitivity);
    assert.ok(bad.dawidSkene.sensitivity < Math.min(...others) - 0.3, JSON.stringify(bad.dawidSkene));
    // … while plain agreement hides it: most plates are normal, so it still agrees on more than 85 % of them.
    assert.ok(bad.agreementWithConsensus > 0.85, String(bad.agreementWithConsensus));
    // Against the others alone its κ is the lowest of the panel.
    const kappas = careful.map((e) => (byId.get(e.id) as any).withOthers.kappa);
    assert.ok(bad.withOthers.kappa < Math.min(...kappas), `${bad.withOthers.kappa} vs ${kappas}`);
  });
});
