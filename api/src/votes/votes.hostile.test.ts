import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../../test/harness.ts';
import { buildImages } from '../../../test/factories/votes.ts';
import { recordVotes } from './record-votes.ts';

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
    [
      'a NUL character in the comment',
      { verdict: 'normal', anomalies: [], comment: 'ok\u0000; drop' },
      422,
      /^comment: must not contain the NUL character \(U\+0000\)/,
    ],
    [
      'a lone UTF-16 surrogate in the comment',
      { verdict: 'normal', anomalies: [], comment: 'half \ud83d of a smiley' },
      422,
      /^comment: must be valid Unicode text \(it has a lone UTF-16 surrogate\)/,
    ],
    [
      'a NUL character in an unknown field name',
      { verdict: 'normal', anomalies: [], 'x\u0000': 1 },
      422,
      /^body: a field name must not contain the NUL character/,
    ],
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

  test('a body that is not UTF-8 → 400, nothing stored', async () => {
    const r = await app.request('PUT', `/api/images/${image}/votes/me`, {
      token: expert.token,
      body: Buffer.concat([
        Buffer.from('{"verdict":"normal","anomalies":[],"comment":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.detail, /^the request body is not valid UTF-8/);
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

describe('one bad vote never fails another', () => {
  test("a vote the database refuses fails alone; the other experts' votes of its batch are stored", async () => {
    // Past the edge's checks (as a bug or a new field might let through): a comment PostgreSQL cannot
    // store, in one batch with honest votes on the same image and on another.
    const db = app.server.services.db;
    const [a, b] = await buildImages(db, { bundle: 'batch-isolation', count: 2 });
    const honest = [await app.user('expert'), await app.user('expert')];
    const vote = (userId: string, imageId: string, comment: string | null) => ({
      imageId: imageId!,
      userId,
      verdict: 'normal' as const,
      anomalies: [],
      comment,
      modelHintShown: false,
      anomalyHint: null,
    });
    const results = await recordVotes(db, [
      vote(honest[0]!.id, a!, 'fine'),
      vote(expert.id, a!, 'bad \u0000 byte'),
      vote(honest[1]!.id, b!, null),
      vote(honest[1]!.id, a!, 'also fine'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    const stored = await db
      .selectFrom('votes')
      .select(['user_id', 'image_id'])
      .where('image_id', 'in', [a!, b!])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      stored.map((v) => [v.user_id, v.image_id]).sort(),
      [
        [honest[0]!.id, a],
        [honest[1]!.id, b],
        [honest[1]!.id, a],
      ].sort(),
    );
  });

  test("one expert sending NUL comments over and over fails none of the other experts' votes", async () => {
    const images = await buildImages(app.server.services.db, { bundle: 'nul-storm', count: 20 });
    const honest = [await app.user('expert'), await app.user('expert'), await app.user('expert')];
    const attacker = await app.user('expert');
    const statuses: number[] = [];
    const attacks: number[] = [];
    await Promise.all([
      ...honest.map(async (u) => {
        for (const id of images) {
          const r = await app.request('PUT', `/api/images/${id}/votes/me`, {
            token: u.token,
            json: { verdict: 'abnormal', anomalies: ['bubbles'], comment: 'seen' },
          });
          statuses.push(r.status);
        }
      }),
      (async () => {
        for (let i = 0; i < 60; i++) {
          const r = await app.request('PUT', `/api/images/${images[i % images.length]}/votes/me`, {
            token: attacker.token,
            json: { verdict: 'normal', anomalies: [], comment: `x\u0000${i}` },
          });
          attacks.push(r.status);
        }
      })(),
    ]);
    assert.deepEqual([...new Set(statuses)], [200], 'every honest vote stored');
    assert.deepEqual([...new Set(attacks)], [422]);
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
      [
        { verdict: 'normal', anomalies: [], reason: 'seen\u0000' },
        /^reason: must not contain the NUL character/,
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

describe('every text input refuses NUL and lone surrogates with 422 naming the field', () => {
  test('the login username and password', async () => {
    for (const [json, message] of [
      [{ username: 'adm\u0000in', password: 'whatever1' }, /^username: must not contain the NUL/],
      [{ username: 'admin', password: 'pass\u0000word' }, /^password: must not contain the NUL/],
      [{ username: '\udc00admin', password: 'whatever1' }, /^username: must be valid Unicode text/],
    ] as const) {
      const r = await app.request('POST', '/api/auth/login', { json });
      assert.equal(r.status, 422, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match(r.body.detail, message);
    }
  });

  test('query parameters: ?bundle= of the image list', async () => {
    for (const [q, message] of [
      ['bundle=B%00', /^query\.bundle: must not contain the NUL character/],
    ] as const) {
      const r = await app.request('GET', `/api/images?${q}`, { token: expert.token });
      assert.ok(r.status === 422, `${q}: ${r.status} ${r.text}`);
      assert.match(r.body.detail, message);
    }
  });

  test("a new user's name, as the admin sends it", async () => {
    const r = await app.request('POST', '/api/users', {
      token: app.admin.token,
      json: { username: 'ev\u0000e', password: 'long-enough-password', role: 'expert' },
    });
    assert.equal(r.status, 422);
    assert.match(r.body.detail, /^username: must not contain the NUL character/);
  });
});
