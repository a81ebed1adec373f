import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { buildImages } from '../../../test/factories/votes.ts';

let app: TestApp;
let voters: TestUser[];
let watcher: TestUser;
let lead: TestUser;
let images: string[];

before(async () => {
  app = await startTestApp();
  voters = [await app.user('expert'), await app.user('expert'), await app.user('expert')];
  watcher = await app.user('expert');
  lead = await app.user('lead');
  images = await buildImages(app.server.services.db, { bundle: 'blind', count: 2 });
});
after(() => app?.close());

const bundle = async (user: TestUser) => {
  const r = await app.request('GET', '/api/bundles', { token: user.token });
  assert.equal(r.status, 200, r.text);
  return r.body.find((b: { name: string }) => b.name === 'blind');
};

describe('GET /api/bundles keeps voting blind', () => {
  test('an expert sees progress but no verdict counts, before and after an image resolves', async () => {
    const before = await bundle(watcher);
    assert.deepEqual(before, {
      name: 'blind',
      images: 2,
      excluded: 0,
      labeled: 0,
      resolved: 0,
      normal: null,
      abnormal: null,
    });
    for (const v of voters) {
      const r = await app.request('PUT', `/api/images/${images[0]}/votes/me`, {
        token: v.token,
        json: { verdict: 'abnormal', anomalies: [] },
      });
      assert.equal(r.status, 200);
    }
    // The watcher has not voted on images[0]; it is resolved now. Nothing here says how.
    assert.deepEqual(await bundle(watcher), {
      name: 'blind',
      images: 2,
      excluded: 0,
      labeled: 1,
      resolved: 1,
      normal: null,
      abnormal: null,
    });
  });

  test('the lead sees the verdict counts', async () => {
    assert.deepEqual(await bundle(lead), {
      name: 'blind',
      images: 2,
      excluded: 0,
      labeled: 1,
      resolved: 1,
      normal: 0,
      abnormal: 1,
    });
    assert.equal((await bundle(app.admin as TestUser)).abnormal, 1);
  });
});
