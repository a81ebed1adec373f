import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../../test/harness.ts';
import {
  buildImages,
  buildSignedInUsers,
  buildVotes,
  type FactoryUser,
} from '../../../test/factories/votes.ts';
import { LABEL_COLUMNS, VOTE_COLUMNS, csvField } from './exports.service.ts';

let app: TestApp;
let lead: FactoryUser;
let images: string[];
let experts: FactoryUser[];

before(async () => {
  app = await startTestApp();
  const db = app.server.services.db;
  experts = await buildSignedInUsers(db, 'expert', 3);
  [lead] = await buildSignedInUsers(db, 'lead', 1);
  // More images than one export page (1000), so paging is exercised.
  images = await buildImages(db, { bundle: 'export', count: 1005 });
  await buildVotes(db, [
    { imageId: images[0], userId: experts[0].id, verdict: 'abnormal', anomalies: ['bubbles', 'scratches'] },
    { imageId: images[0], userId: experts[1].id, verdict: 'abnormal', anomalies: ['bubbles'] },
    {
      imageId: images[0],
      userId: experts[2].id,
      verdict: 'normal',
      comment: '=HYPERLINK("x"), "quoted"\nline 2',
    },
    { imageId: images[1], userId: experts[0].id, verdict: 'normal' },
    {
      imageId: images[1],
      userId: experts[0].id,
      verdict: 'abnormal',
      anomalies: ['lines'],
      anomalyHint: ['lines', 'scratches'],
    },
  ]);
});
after(() => app?.close());

/** A small RFC 4180 parser, enough to read our own output back. */
/** RFC 4180, split at `sep` (a spreadsheet in another locale splits at ';' or a tab). */
function parseCsv(text: string, sep = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((field += '"'), i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) (row.push(field), (field = ''));
    else if (ch === '\r' && text[i + 1] === '\n')
      (row.push(field), rows.push(row), (row = []), (field = ''), i++);
    else field += ch;
  }
  return rows;
}

describe('exports', () => {
  test('labels.csv: one row per image in the documented column order', async () => {
    const r = await app.request('GET', '/api/exports/labels.csv', { token: lead.token });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(r.headers.get('content-disposition') ?? '', /attachment; filename="labels.csv"/);
    const rows = parseCsv(r.text);
    assert.deepEqual(rows[0], [...LABEL_COLUMNS]);
    assert.equal(rows.length, 1 + images.length);
    const first = Object.fromEntries(LABEL_COLUMNS.map((c, i) => [c, rows[1][i]]));
    assert.equal(first.image_id, images[0]);
    assert.equal(first.bundle, 'export');
    assert.equal(first.status, 'resolved');
    assert.equal(first.verdict, 'abnormal');
    assert.equal(first.method, 'majority');
    assert.equal(first.anomalies, 'bubbles');
    assert.equal(first.normal_votes, '1');
    assert.equal(first.abnormal_votes, '2');
    assert.equal(first.p_abnormal, '');
    const second = Object.fromEntries(LABEL_COLUMNS.map((c, i) => [c, rows[2][i]]));
    assert.equal(second.status, 'pending');
    assert.equal(second.abnormal_votes, '1', 'only the current vote counts');
    assert.equal(rows.at(-1)![4], 'unlabeled');
  });

  test('labels.json: the same rows as JSON objects', async () => {
    const r = await app.request('GET', '/api/exports/labels.json', { token: lead.token });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text);
    assert.equal(body.length, images.length);
    assert.deepEqual(body[0], {
      imageId: images[0],
      bundle: 'export',
      name: body[0].name,
      sha256: body[0].sha256,
      status: 'resolved',
      verdict: 'abnormal',
      method: 'majority',
      anomalies: ['bubbles'],
      counts: { normal: 1, abnormal: 2 },
      resolvedBy: null,
      resolvedAt: body[0].resolvedAt,
      pAbnormal: null,
      modelVersion: null,
      excluded: null,
    });
  });

  test('votes.csv: every vote of the history, current ones marked, free text escaped and defused', async () => {
    const r = await app.request('GET', '/api/exports/votes.csv', { token: lead.token });
    assert.equal(r.status, 200);
    const rows = parseCsv(r.text);
    assert.deepEqual(rows[0], [...VOTE_COLUMNS]);
    assert.equal(rows.length, 1 + 5);
    const col = (name: (typeof VOTE_COLUMNS)[number]) => VOTE_COLUMNS.indexOf(name);
    assert.equal(rows[1][col('anomalies')], 'scratches;bubbles');
    assert.equal(rows[3][col('comment')], `'=HYPERLINK("x"), "quoted"\nline 2`);
    assert.deepEqual(
      rows
        .slice(4)
        .map((row) => [
          row[col('verdict')],
          row[col('current')],
          row[col('model_hint_shown')],
          row[col('anomaly_hint')],
        ]),
      [
        ['normal', 'false', 'false', ''],
        // The model's hint pre-selected two types (paper order); the expert kept one.
        ['abnormal', 'true', 'true', 'scratches;lines'],
      ],
    );
  });

  test('are for leads and admins only', async () => {
    for (const path of ['labels.csv', 'labels.json', 'votes.csv']) {
      const r = await app.request('GET', `/api/exports/${path}`, { token: experts[0].token });
      assert.equal(r.status, 403);
    }
  });

  test('csvField quotes separators and defuses formulas', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvField(-3), '-3');
    assert.equal(csvField(null), '');
  });

  test('csvField defuses formulas behind whitespace, separators of other locales and full-width signs', () => {
    assert.equal(csvField(' =1+1'), "' =1+1");
    assert.equal(csvField('\u00a0\t=1+1'), `"'\u00a0\t=1+1"`);
    assert.equal(csvField('\n-2+3'), `"'\n-2+3"`);
    assert.equal(csvField('\uff1dSUM(A1)'), "'\uff1dSUM(A1)");
    // Split at semicolons (many locales) or tabs, an unquoted field would open a new cell with "=".
    assert.equal(csvField(";=cmd|' /C calc'!A0"), `";=cmd|' /C calc'!A0"`);
    assert.equal(csvField('ok\t=1+1'), `"ok\t=1+1"`);
    assert.equal(csvField('a - b'), 'a - b', 'a sign inside the text is no formula');
  });

  test('every cell of votes.csv that a spreadsheet could read as a formula is defused, in any locale', async () => {
    const db = app.server.services.db;
    const [img] = await buildImages(db, { bundle: 'formulas' });
    const startsAFormula = [' =1+1', '\t=1+1', '\uff0b1+1'];
    const opensACellWithOne = [";=cmd|' /C calc'!A0", 'x,=1+1', 'a\n@SUM(A1)', 'b\t-1+1'];
    const voter = await app.user('expert');
    for (const comment of [...startsAFormula, ...opensACellWithOne]) {
      const r = await app.request('PUT', `/api/images/${img}/votes/me`, {
        token: voter.token,
        json: { verdict: 'normal', anomalies: [], comment },
      });
      assert.equal(r.status, 200, r.text);
    }
    const csv = (await app.request('GET', '/api/exports/votes.csv', { token: lead.token })).text;
    const comments = parseCsv(csv)
      .slice(1)
      .map((row) => row[VOTE_COLUMNS.indexOf('comment')]);
    for (const c of startsAFormula) assert.ok(comments.includes(`'${c}`), JSON.stringify(c));
    for (const c of opensACellWithOne) assert.ok(comments.includes(c), JSON.stringify(c));
    // Read as a spreadsheet in a locale that splits at semicolons or tabs: quotes keep a field one cell,
    // and no cell starts (after whitespace) with a formula sign.
    for (const sep of [',', ';', '\t']) {
      for (const cell of parseCsv(csv, sep).flat())
        assert.doesNotMatch(
          cell,
          /^\s*([=+@\uff0b]|-(?!\d+(\.\d+)?$))/,
          `a formula cell when split at ${JSON.stringify(sep)}`,
        );
    }
  });
});
