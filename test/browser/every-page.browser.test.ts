/**
 * Every page as every role (issue 15, item 4): an expert, a lead and an admin each open every route of the app.
 * A page must not log a console error, nor make a request that fails, unless the page expects that answer
 * (EXPECTED below, each with its reason); a card must not show a raw refusal ("you are expert") or call a
 * refusal "empty"; and wherever a model's numbers or hints appear, the untrained backbone is named.
 * A screenshot of each page as each role goes to test-artifacts/screenshots/every-page-<role>-<page>.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../harness.ts';
import { deepText, enforceStrictCsp, ensureClientBuilt, launch, screenshot, signIn } from './browser.ts';
import { uploadFixtures } from './fixtures.ts';
import { buildActiveModel } from '../factories/votes.ts';
import type { Role } from '../../lib/db/schema.ts';

const T = { timeout: 120_000 };

/**
 * Failed answers a page asks for knowing they may come, each with why. Nothing else may fail.
 * (method, path pattern, status)
 */
const EXPECTED: [string, RegExp, number, string][] = [
  ['GET', /^\/api\/images\/\d+\/heatmap$/, 404, 'the runner has not computed this heatmap yet'],
  ['GET', /^\/api\/images\/\d+\/prediction$/, 404, 'the active model has not scored this image yet'],
];

/** Every route of the app with the roles its nav offers it to: read from the nav of each role (before()). */
const PAGES: { path: string; name: string; roles: Role[] }[] = [];

/** What shows that a page has its own content, for the pages that load something slow (the viewer). */
const READY: Record<string, string> = {
  label: 'xray-viewer canvas[aria-label^="X-ray"]',
  review: 'review-page nav li button',
  dashboard: 'dashboard-page h2:text("Models")',
  admin: 'admin-page h2:text("Users")',
};

let app: TestApp;
let browser: Browser;
const users = {} as Record<Role, TestUser>;

before(async () => {
  await ensureClientBuilt();
  app = await startTestApp();
  browser = await launch();
  users.admin = app.admin;
  users.lead = await app.user('lead', 'lena');
  users.expert = await app.user('expert', 'ana');
  const [ben, cid] = [await app.user('expert', 'ben'), await app.user('expert', 'cid')];
  const images = await uploadFixtures(app, 6, { width: 240, height: 480 });
  await app.request('PUT', '/api/settings', {
    token: app.admin.token,
    json: { votesRequired: 2, votesMax: 2 },
  });
  // A tie for the review queue, a resolved image, and four left for the expert.
  const vote = (u: TestUser, id: string, verdict: string) =>
    app.request('PUT', `/api/images/${id}/votes/me`, {
      token: u.token,
      json: { verdict, anomalies: verdict === 'abnormal' ? ['bubbles'] : [] },
    });
  await vote(ben, images[0].id, 'normal');
  await vote(cid, images[0].id, 'abnormal');
  await vote(ben, images[1].id, 'abnormal');
  await vote(cid, images[1].id, 'abnormal');
  // An active model on the untrained backbone that scored every image, and a finished training job.
  await buildActiveModel(
    app.server.services.db,
    images.map((im, i) => ({ imageId: im.id, pAbnormal: i === 1 ? 0.1 : 0.6, priority: 1 - i / 10 })),
  );
  await app.request('POST', '/api/models/train', { token: users.lead.token, json: { method: 2 } });
  // The app's pages: the union of what each role's nav offers, so a new page is visited without editing this test.
  for (const role of ['expert', 'lead', 'admin'] as const) {
    const page = await browser.newPage();
    await page.goto(app.url + '/');
    await signIn(page, users[role].username, users[role].password);
    await page.locator('platina-app nav a').first().waitFor();
    for (const href of await page
      .locator('platina-app nav a')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')!))) {
      const entry = PAGES.find((p) => p.path === href) ?? { path: href, name: href.slice(1), roles: [] };
      if (!PAGES.includes(entry)) PAGES.push(entry);
      entry.roles.push(role);
    }
    await page.close();
  }
});
after(async () => {
  await browser?.close();
  await app?.close();
});

interface Problems {
  console: string[];
  failed: string[];
}

function watch(page: Page): Problems {
  const p: Problems = { console: [], failed: [] };
  const expected = (method: string, url: string, status: number) =>
    EXPECTED.some(([m, re, s]) => m === method && re.test(new URL(url).pathname) && s === status);
  page.on('pageerror', (e) => p.console.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every failed resource: it is a problem exactly when the request was not expected.
    if (/Failed to load resource/.test(m.text()) && responses.has(m.location().url)) return;
    p.console.push(`${m.text()} (${m.location().url})`);
  });
  const responses = new Set<string>();
  page.on('response', (r) => {
    if (r.status() < 400) return;
    if (expected(r.request().method(), r.url(), r.status())) responses.add(r.url());
    else p.failed.push(`${r.request().method()} ${new URL(r.url()).pathname} → ${r.status()}`);
  });
  page.on('requestfailed', (r) => {
    // A request the page itself abandoned (a newer selection, leaving the page) is not a failure.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    p.failed.push(`${r.method()} ${new URL(r.url()).pathname}: ${r.failure()?.errorText}`);
  });
  return p;
}

/** Waits until the page has settled: its own content is there and no request is in flight. */
async function settle(page: Page, name: string): Promise<void> {
  if (READY[name]) await page.locator(READY[name]).first().waitFor({ timeout: 60_000 });
  await page.waitForLoadState('networkidle');
}

describe('every page as every role', () => {
  for (const role of ['expert', 'lead', 'admin'] as const) {
    test(`as ${role}: no console error, no unexpected failed request, no raw refusal`, T, async () => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      await enforceStrictCsp(context);
      const page = await context.newPage();
      const problems = watch(page);
      const found: string[] = [];
      await page.goto(app.url + '/');
      await signIn(page, users[role].username, users[role].password);
      await page.locator('platina-app nav').waitFor();
      assert.ok(PAGES.length >= 4, PAGES.map((p) => p.path).join(' '));
      for (const p of PAGES) {
        await page.evaluate((path) => {
          history.pushState(null, '', path);
          dispatchEvent(new PopStateEvent('popstate'));
        }, p.path);
        const allowed = p.roles.includes(role);
        if (allowed) await settle(page, p.name);
        else await page.getByText(`Your role (${role}) cannot open`).waitFor();
        if (allowed && p.name === 'review') {
          await page.locator('review-page nav li button').first().click();
          await page.locator('review-page aside h2').waitFor();
          await page.waitForLoadState('networkidle');
        }
        await screenshot(page, `every-page-${role}-${p.name}`, { fullPage: true });
        const text = await deepText(page, 'main');
        const where = `${role} ${p.path}`;
        if (/you are (expert|lead|admin)|this needs the role/i.test(text))
          found.push(`${where}: a raw refusal`);
        if (/object Object|undefined|NaN/.test(text)) found.push(`${where}: object Object, undefined or NaN`);
        if (allowed && (p.name === 'dashboard' || p.name === 'review') && !/untrained backbone/i.test(text))
          found.push(`${where}: model numbers without "untrained backbone"`);
        if (allowed && p.name === 'dashboard') {
          const jobs = await page.getByRole('heading', { name: 'Jobs' }).count();
          const agreement = await page.getByRole('heading', { name: 'Agreement' }).count();
          if (/No training or scoring jobs/.test(text))
            found.push(`${where}: "no jobs" although one is queued`);
          // Cards an expert may not see are not there at all, rather than "empty" or a refusal.
          if (role === 'expert' && (jobs || agreement)) found.push(`${where}: a lead's card`);
          if (role !== 'expert' && !(jobs && agreement)) found.push(`${where}: a card missing`);
          if (role !== 'expert' && !/priorities \(untrained backbone\)/.test(text))
            found.push(`${where}: the queue's model priorities without "untrained backbone"`);
        }
      }
      assert.deepEqual({ ...problems, found }, { console: [], failed: [], found: [] });
      await context.close();
    });
  }
});
