import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { buildImages } from './factories.ts';

let app: TestApp;
let expert: TestUser;
let other: TestUser;
let image: string;

before(async () => {
  app = await startTestApp();
  expert = await app.user('expert');
  other = await app.user('expert');
  [image] = await buildImages(app.server.services.db, { bundle: 'hostile' });
});
after(() => app?.close());

async function storedVotes(): Promise<number> {
  const r = await app.server.services.db
    .selectFrom('votes')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('malformed and hostile votes are refused with a message, and nothing is stored', () => {
  const cases: [string, unknown, number, RegExp][] = [
    [
      'a verdict of the wrong type',
      { verdict: 1, anomalies: [] },
      422,
      /^verdict: must be "normal" or "abnormal"/,
    ],
    [
      'an unknown verdict',
      { verdict: 'maybe', anomalies: [] },
      422,
      /^verdict: must be "normal" or "abnormal"/,
    ],
    ['a missing verdict', { anomalies: [] }, 422, /^verdict: /],
    [
      'anomalies that are not a list',
      { verdict: 'normal', anomalies: 'bubbles' },
      422,
      /^anomalies: must be a list/,
    ],
    [
      'an unknown anomaly code',
      { verdict: 'abnormal', anomalies: ['dents'] },
      422,
      /^anomalies\.0: must be one of scratches/,
    ],
    [
      'a duplicate anomaly code',
      { verdict: 'abnormal', anomalies: ['bubbles', 'bubbles'] },
      422,
      /^anomalies: must not list an anomaly type twice/,
    ],
    [
      'a huge anomaly list',
      { verdict: 'abnormal', anomalies: Array(100_000).fill('bubbles') },
      422,
      /^anomalies: must list each of the 11 anomaly types at most once/,
    ],
    [
      'a 10 000-character comment',
      { verdict: 'normal', anomalies: [], comment: 'x'.repeat(10_000) },
      422,
      /^comment: must be at most 2000 characters/,
    ],
    [
      'a comment of the wrong type',
      { verdict: 'normal', anomalies: [], comment: { text: 'hi' } },
      422,
      /^comment: /,
    ],
    ["another user's id", { verdict: 'normal', anomalies: [], userId: '1' }, 422, /userId/],
    [
      'a model-hint flag of the wrong type',
      { verdict: 'normal', anomalies: [], modelHintShown: 'yes' },
      422,
      /^modelHintShown: /,
    ],
    [
      'type hints without the model hint',
      { verdict: 'normal', anomalies: [], anomalyHint: ['lines'] },
      422,
      /^anomalyHint: is part of the model hint: send it only with modelHintShown: true/,
    ],
    [
      'an unknown code among the type hints',
      { verdict: 'normal', anomalies: [], modelHintShown: true, anomalyHint: ['dents'] },
      422,
      /^anomalyHint\.0: must be one of scratches, /,
    ],
    ['an array instead of an object', [{ verdict: 'normal', anomalies: [] }], 422, /expected object/],
  ];
  for (const [what, json, status, message] of cases) {
    test(`${what} → ${status}`, async () => {
      const r = await app.request('PUT', `/api/images/${image}/votes/me`, { token: expert.token, json });
      assert.equal(r.status, status, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match(r.body.detail, message);
      assert.equal(await storedVotes(), 0);
    });
  }

  test('malformed JSON → 400, a body over the limit → 413, a non-JSON content type → 415', async () => {
    const url = `/api/images/${image}/votes/me`;
    const headers = { 'content-type': 'application/json' };
    const broken = await app.request('PUT', url, { token: expert.token, body: '{"verdict":', headers });
    assert.equal(broken.status, 400);
    assert.match(broken.body.detail, /not valid JSON/);
    const huge = await app.request('PUT', url, {
      token: expert.token,
      body: JSON.stringify({ verdict: 'normal', anomalies: [], comment: 'x'.repeat(2_000_000) }),
      headers,
    });
    assert.equal(huge.status, 413);
    assert.match(huge.body.detail, /limited to/);
    const text = await app.request('PUT', url, {
      token: expert.token,
      body: 'verdict=normal',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(text.status, 415);
    assert.equal(await storedVotes(), 0);
  });

  test("an image id that is not an id → 422; another user cannot vote through someone else's path", async () => {
    const bad = await app.request('PUT', `/api/images/1%27%20or%201=1/votes/me`, {
      token: expert.token,
      json: { verdict: 'normal', anomalies: [] },
    });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /^id: must be an id/);
    const foreign = await app.request('PUT', `/api/images/${image}/votes/${other.id}`, {
      token: expert.token,
      json: { verdict: 'normal', anomalies: [] },
    });
    assert.equal(foreign.status, 404);
    assert.equal(await storedVotes(), 0);
  });

  test('a valid vote after all that is stored exactly once', async () => {
    const r = await app.request('PUT', `/api/images/${image}/votes/me`, {
      token: expert.token,
      json: {
        verdict: 'normal',
        anomalies: ['lines'],
        comment: '  faint line, minor  ',
        modelHintShown: true,
        anomalyHint: ['lines', 'scratches'],
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.modelHintShown, true);
    assert.deepEqual(r.body.anomalyHint, ['scratches', 'lines'], 'stored in the paper order');
    assert.equal(await storedVotes(), 1);
  });
});

describe('resolutions refuse bad input the same way', () => {
  test('an empty reason, an unknown code or a 10 000-character reason → 422, nothing stored', async () => {
    const lead = await app.user('lead');
    for (const [json, message] of [
      [{ verdict: 'normal', anomalies: [], reason: '   ' }, /^reason: is required/],
      [{ verdict: 'normal', anomalies: ['dents'], reason: 'x' }, /^anomalies\.0: must be one of/],
      [
        { verdict: 'normal', anomalies: [], reason: 'x'.repeat(10_000) },
        /^reason: must be at most 2000 characters/,
      ],
    ] as const) {
      const r = await app.request('PUT', `/api/images/${image}/resolution`, { token: lead.token, json });
      assert.equal(r.status, 422);
      assert.match(r.body.detail, message);
    }
    const n = await app.server.services.db
      .selectFrom('resolutions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 0);
  });
});
