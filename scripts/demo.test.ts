import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../test/harness.ts';
import { runDemo, type DemoReport } from './demo.ts';

let app: TestApp;
let dataDir: string;
let report: DemoReport;

before(async () => {
  app = await startTestApp();
  dataDir = mkdtempSync(path.join(tmpdir(), 'platina-demo-'));
  report = await runDemo({ url: app.url, adminPassword: ADMIN_PASSWORD, dataDir, seed: 2022 });
});
after(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  test('imports the 96 small synthetic images into 12 bundles', async () => {
    assert.equal(report.imported, 96);
    const bundles = await app.request('GET', '/api/bundles', { token: app.admin.token });
    assert.equal(bundles.status, 200);
    assert.equal(bundles.body.length, 12);
    assert.equal(
      bundles.body.reduce((n: number, b: { images: number }) => n + b.images, 0),
      96,
    );
  });

  test('creates a lead and three experts whose printed passwords work', async () => {
    assert.deepEqual(
      report.users.map((u) => [u.username, u.role]),
      [
        ['lead', 'lead'],
        ['expert1', 'expert'],
        ['expert2', 'expert'],
        ['expert3', 'expert'],
      ],
    );
    for (const u of report.users) assert.ok(await app.login(u.username, u.password!));
  });

  test('the first round leaves unanimous, split and tied images, and work still to do', async () => {
    assert.equal(report.votes, 80 + 68 + 56);
    assert.equal(report.leadVotes, 3, 'the lead staged three ties');
    assert.equal(report.statuses.needs_lead, 3);
    assert.ok((report.statuses.resolved ?? 0) >= 30, JSON.stringify(report.statuses));
    assert.ok(
      (report.statuses.unlabeled ?? 0) + (report.statuses.pending ?? 0) > 0,
      JSON.stringify(report.statuses),
    );
    // Among resolved images both unanimous and majority outcomes occur.
    const images = await app.request('GET', '/api/images?status=resolved&limit=500', {
      token: app.admin.token,
    });
    const methods = new Set<string>();
    for (const im of images.body.items) {
      const c = await app.request('GET', `/api/images/${im.id}/consensus`, { token: app.admin.token });
      methods.add(c.body.method);
    }
    assert.deepEqual([...methods].sort(), ['majority', 'unanimous']);
  });

  test('running it again adds nothing', async () => {
    const again = await runDemo({ url: app.url, adminPassword: ADMIN_PASSWORD, dataDir, seed: 2022 });
    assert.equal(again.imported, 0);
    assert.equal(again.skipped, 96);
    assert.equal(again.votes, 0);
    assert.ok(again.users.every((u) => u.password === null));
    assert.deepEqual(again.statuses, report.statuses);
  });
});
