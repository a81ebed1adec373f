import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../test/harness.ts';
import { DEMO_BUNDLES, DEMO_IMAGES_PER_BUNDLE, runDemo } from './demo.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const IMAGES = DEMO_BUNDLES * DEMO_IMAGES_PER_BUNDLE;

let app: TestApp;
let dataDir: string;
/** `npm run demo`'s output and exit code. */
let run: { code: number | null; out: string };

/**
 * `npm run demo`, exactly as the README writes it, in a second "terminal" whose only link to the server is PORT,
 * and the admin password typed in (here: its input's first line), as a user copies it from the start banner.
 */
function npmRunDemo(port: string, typed: string): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: port, PLATINA_DATA_DIR: dataDir };
  delete env.PLATINA_ADMIN_PASSWORD;
  delete env.PLATINA_PASSWORD;
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'demo'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.stdin.end(`${typed}\n`);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

before(async () => {
  app = await startTestApp();
  dataDir = mkdtempSync(path.join(tmpdir(), 'platina-demo-'));
  run = await npmRunDemo(new URL(app.url).port, ADMIN_PASSWORD);
});
after(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** "  expert expert1  password: abc" lines of the output. */
function printedUsers(out: string): [string, string, string][] {
  return [...out.matchAll(/^ {2}(lead|expert) +(\S+) +password: (\S+)$/gm)].map((m) => [m[1], m[2], m[3]]);
}

describe('npm run demo', () => {
  test('runs as the README says: PORT finds the server, the typed password signs in', () => {
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, new RegExp(`images: ${IMAGES} imported, 0 already there`));
  });

  test('imports full-size electrodes (about 1150 × 2070, as the paper’s) into the demo bundles', async () => {
    const bundles = await app.request('GET', '/api/bundles', { token: app.admin.token });
    assert.equal(bundles.body.length, DEMO_BUNDLES);
    const images = await app.request('GET', '/api/images?limit=500', { token: app.admin.token });
    assert.equal(images.body.items.length, IMAGES);
    for (const im of images.body.items) {
      assert.ok(im.width >= 1119 && im.width <= 1219, `${im.name} ${im.width}`);
      assert.ok(im.height >= 2053 && im.height <= 2115, `${im.name} ${im.height}`);
    }
  });

  test('creates a lead and three experts whose printed passwords work', async () => {
    const users = printedUsers(run.out);
    assert.deepEqual(
      users.map(([role, name]) => [name, role]),
      [
        ['lead', 'lead'],
        ['expert1', 'expert'],
        ['expert2', 'expert'],
        ['expert3', 'expert'],
      ],
    );
    for (const [, name, password] of users) assert.ok(await app.login(name, password));
  });

  test('the first round leaves unanimous, split and tied images, and work still to do', async () => {
    const images = await app.request('GET', '/api/images?limit=500', { token: app.admin.token });
    const statuses: Record<string, number> = {};
    for (const im of images.body.items) statuses[im.status] = (statuses[im.status] ?? 0) + 1;
    assert.equal(statuses.needs_lead, 3, JSON.stringify(statuses));
    assert.ok((statuses.resolved ?? 0) >= IMAGES / 3, JSON.stringify(statuses));
    assert.ok((statuses.unlabeled ?? 0) + (statuses.pending ?? 0) > 0, JSON.stringify(statuses));
    const methods = new Set<string>();
    for (const im of images.body.items.filter((i: { status: string }) => i.status === 'resolved')) {
      const c = await app.request('GET', `/api/images/${im.id}/consensus`, { token: app.admin.token });
      methods.add(c.body.method);
    }
    assert.deepEqual([...methods].sort(), ['majority', 'unanimous']);
  });

  test('the careless expert is marked below the panel, and no careful one is', async () => {
    const r = await app.request('GET', '/api/metrics/agreement', { token: app.admin.token });
    const below = Object.fromEntries(
      r.body.perExpert.map((p: { user: { username: string }; belowPanel: string[] }) => [
        p.user.username,
        p.belowPanel,
      ]),
    );
    assert.deepEqual(
      [below.expert1, below.expert2, below.expert3],
      [[], [], ['sensitivity']],
      JSON.stringify(r.body.perExpert),
    );
  });

  test('running it again adds nothing', async () => {
    const again = await runDemo({ url: app.url, adminPassword: ADMIN_PASSWORD, dataDir, seed: 2022 });
    assert.equal(again.imported, 0);
    assert.equal(again.skipped, IMAGES);
    assert.equal(again.votes, 0);
    assert.ok(again.users.every((u) => u.password === null));
  });
});
