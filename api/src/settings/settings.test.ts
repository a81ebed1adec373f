import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import { buildImages, buildSignedInUsers, type FactoryUser } from '../../../test/factories/votes.ts';

let app: TestApp;
let experts: FactoryUser[];

before(async () => {
  app = await startTestApp();
  experts = await buildSignedInUsers(app.server.services.db, 'expert', 3);
});
after(() => app?.close());

const put = (json: unknown, token = app.admin.token) => app.request('PUT', '/api/settings', { token, json });
const consensus = (id: string) =>
  app.request('GET', `/api/images/${id}/consensus`, { token: app.admin.token });

describe('settings', () => {
  test('start with the defaults, readable by every signed-in user', async () => {
    const r = await app.request('GET', '/api/settings', { token: experts[0].token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { votesRequired: 3, votesMax: 3, showModelHint: false, retrainEvery: 25 });
  });

  test('only admins change them, and invalid values are refused naming the field', async () => {
    const lead = (await buildSignedInUsers(app.server.services.db, 'lead', 1))[0];
    const forbidden = await put({ votesRequired: 2 }, lead.token);
    assert.equal(forbidden.status, 403);
    const cases: [unknown, RegExp][] = [
      [{ votesRequired: 0 }, /^votesRequired: must be at least 1/],
      [{ votesRequired: 2.5 }, /^votesRequired: must be a whole number/],
      [{ votesMax: 2 }, /votesMax must be an integer ≥ votesRequired \(now votesRequired 3, votesMax 2\)/],
      [{ showModelHint: 'yes' }, /^showModelHint: /],
      [{ colour: 'red' }, /colour/],
      [{}, /give at least one of/],
    ];
    for (const [json, message] of cases) {
      const r = await put(json);
      assert.equal(r.status, 422, JSON.stringify(json));
      assert.match(r.body.detail, message);
    }
    const unchanged = await app.request('GET', '/api/settings', { token: app.admin.token });
    assert.deepEqual(unchanged.body, {
      votesRequired: 3,
      votesMax: 3,
      showModelHint: false,
      retrainEvery: 25,
    });
  });

  test('changing the rule recomputes every image at once (adaptive overlap reopens split images)', async () => {
    const [split, unanimous] = await buildImages(app.server.services.db, { bundle: 'settings', count: 2 });
    for (const [i, e] of experts.entries()) {
      await app.request('PUT', `/api/images/${split}/votes/me`, {
        token: e.token,
        json: { verdict: i === 0 ? 'normal' : 'abnormal', anomalies: [] },
      });
      await app.request('PUT', `/api/images/${unanimous}/votes/me`, {
        token: e.token,
        json: { verdict: 'normal', anomalies: [] },
      });
    }
    assert.equal((await consensus(split)).body.method, 'majority');

    const r = await put({ votesMax: 5 });
    assert.deepEqual(r.body, { votesRequired: 3, votesMax: 5, showModelHint: false, retrainEvery: 25 });
    const reopened = await consensus(split);
    assert.equal(reopened.body.status, 'pending');
    assert.equal(reopened.body.votesNeeded, 1);
    assert.equal((await consensus(unanimous)).body.method, 'unanimous', 'a unanimous image stays decided');

    await put({ votesRequired: 4 });
    assert.equal((await consensus(unanimous)).body.status, 'pending');
    assert.equal((await consensus(unanimous)).body.votesNeeded, 1);

    await put({ votesRequired: 3, votesMax: 3 });
    assert.equal((await consensus(split)).body.method, 'majority');
    assert.equal((await consensus(unanimous)).body.method, 'unanimous');
  });
});
