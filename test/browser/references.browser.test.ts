/**
 * Reference images in the browser (issue 15, item 5): the lead marks a resolved image as a reference from the
 * review page, sets the rate on the dashboard, and after an expert answered it blind, sees that expert's accuracy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../harness.ts';
import { enforceStrictCsp, ensureClientBuilt, launch, screenshot, signIn, watchProblems } from './browser.ts';
import { uploadFixtures, type UploadedImage } from './fixtures.ts';
import { buildActiveModel } from '../factories/votes.ts';

const T = { timeout: 120_000 };
let app: TestApp;
let browser: Browser;
let lead: TestUser;
let images: UploadedImage[];

before(async () => {
  await ensureClientBuilt();
  app = await startTestApp();
  browser = await launch();
  lead = await app.user('lead', 'lena');
  const [ben, cid] = [await app.user('expert', 'ben'), await app.user('expert', 'cid')];
  images = await uploadFixtures(app, 9, { width: 240, height: 480 });
  await app.request('PUT', '/api/settings', {
    token: app.admin.token,
    json: { votesRequired: 2, votesMax: 2 },
  });
  for (const u of [ben, cid])
    await app.request('PUT', `/api/images/${images[0].id}/votes/me`, {
      token: u.token,
      json: { verdict: 'abnormal', anomalies: ['bubbles'] },
    });
  // The model contradicts the resolved image, so it appears in the lead's review queue.
  await buildActiveModel(app.server.services.db, [{ imageId: images[0].id, pAbnormal: 0.05 }]);
});
after(async () => {
  await browser?.close();
  await app?.close();
});

describe('reference images', () => {
  test('the lead marks a resolved image, sets the rate and reads an expert’s accuracy', T, async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await enforceStrictCsp(context);
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(app.url + '/');
    await signIn(page, lead.username, lead.password);
    await page.locator('platina-app nav a', { hasText: 'Review' }).click();
    await page.locator('review-page nav li button', { hasText: images[0].name }).click();
    await page.getByRole('button', { name: 'Use as a reference image' }).click();
    await page.getByText('Marked as a reference image').waitFor();
    await page.locator('platina-app nav a', { hasText: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Reference images' }).waitFor();
    await page.getByTestId('references').getByText(images[0].name).waitFor();
    await page.getByLabel('References in each expert’s queue').fill('50');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('References now take 50 % of each queue.').waitFor();
    assert.equal((await app.request('GET', '/api/references', { token: lead.token })).body.rate, 0.5);

    // A new expert labels eight ordinary images and the reference (a draw below 0.5 each time decides when it
    // comes: eight misses in a row would be a 1-in-256 hash), waving everything through.
    const dan = await app.user('expert', 'dan');
    for (let i = 0; i < 9; i++) {
      const next = await app.request('GET', '/api/queue/next', { token: dan.token });
      if (next.status !== 200) break;
      await app.request('PUT', `/api/images/${next.body.id}/votes/me`, {
        token: dan.token,
        json: { verdict: 'normal', anomalies: [] },
      });
    }
    await page.reload();
    await page.getByTestId('reference-accuracy').getByText('dan').waitFor();
    const row = page.getByTestId('reference-accuracy').locator('tr', { hasText: 'dan' });
    assert.match(await row.innerText(), /1\s+0 %/);
    await page.getByTestId('references').getByText('0 / 1').waitFor();
    await screenshot(page, 'dashboard-references', { fullPage: true });
    assert.deepEqual(problems.errors, []);
    await context.close();
  });
});
