/**
 * Screenshots for the README on realistic data (`npx tsx test/browser/doc-screenshots.ts`): renders a few
 * full-size synthetic electrodes with the synthetic-data generator (lib/synth), uploads them to a fresh
 * Platina, casts votes (one split into a tie), and captures the labeling, review and dashboard pages into
 * docs/screenshots/demo-*.png. Not a test: slow, and it only looks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planDataset } from '../../lib/synth/plan.ts';
import { writeSyntheticImage } from '../../lib/synth/tasks.ts';
import { startTestApp } from '../harness.ts';
import type { Page } from 'playwright-core';
import { ensureClientBuilt, launch, screenshot, signIn } from './browser.ts';

const plan = planDataset({ seed: 2022, scale: 'full' });
// Two abnormal images with different anomalies from each of three bundles, and one normal one.
const picked = plan.bundles.slice(0, 3).flatMap((b) => {
  const inBundle = plan.images.filter((i) => i.bundle === b.name);
  const abnormal = inBundle.filter((i) => i.verdict === 'abnormal').slice(0, 2);
  return [...abnormal, inBundle.find((i) => i.verdict === 'normal')!];
});

const DOCS = path.resolve(import.meta.dirname, '../../docs/screenshots');

/** The README's copy: this script is run by hand to refresh docs/screenshots/, never by `npm test`. */
async function docScreenshot(page: Page, name: string): Promise<void> {
  fs.copyFileSync(await screenshot(page, name), path.join(DOCS, `${name}.png`));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-doc-'));
await ensureClientBuilt();
const app = await startTestApp();
const browser = await launch();
try {
  const ids: string[] = [];
  for (const image of picked) {
    const file = path.join(dir, path.basename(image.file));
    writeSyntheticImage({
      plan: { seed: plan.seed, scale: plan.scale, bundles: plan.bundles },
      image,
      path: file,
    });
    const r = await app.request(
      'POST',
      `/api/images?bundle=${image.bundle}&name=${path.basename(image.file)}`,
      {
        token: app.admin.token,
        body: fs.readFileSync(file),
        headers: { 'content-type': 'image/tiff' },
      },
    );
    ids.push(String(r.body.id));
    console.log(image.file, image.verdict, image.anomalies.map((a) => a.type).join(','), r.status);
  }
  await app.request('PUT', '/api/settings', {
    token: app.admin.token,
    json: { votesRequired: 2, votesMax: 2 },
  });
  const experts = [await app.user('expert', 'ana'), await app.user('expert', 'ben')];
  // A tie on the first image, agreement on the second.
  for (const [k, verdict] of (['normal', 'abnormal'] as const).entries()) {
    await app.request('PUT', `/api/images/${ids[0]}/votes/me`, {
      token: experts[k].token,
      json: {
        verdict,
        anomalies: verdict === 'abnormal' ? [picked[0].anomalies[0].type] : [],
        comment: k ? 'clear defect' : 'minor, within tolerance',
      },
    });
    await app.request('PUT', `/api/images/${ids[3]}/votes/me`, {
      token: experts[k].token,
      json: { verdict: picked[3].verdict, anomalies: picked[3].anomalies.slice(0, 1).map((a) => a.type) },
    });
  }
  const carla = await app.user('expert', 'carla');
  const lead = await app.user('lead', 'lena');

  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await page.goto(app.url + '/');
  await signIn(page, carla.username, carla.password);
  await page.locator('xray-viewer canvas[aria-label^="X-ray"]').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(800);
  await page.keyboard.press('a');
  await page.keyboard.press('1');
  await docScreenshot(page, 'demo-label');
  await page.keyboard.press('m');
  await page.keyboard.press('m');
  await page.waitForTimeout(400);
  await docScreenshot(page, 'demo-label-method2');
  await page.keyboard.press('c');
  await page.keyboard.press('w');
  await page.waitForTimeout(400);
  await docScreenshot(page, 'demo-label-false-colour');
  await page.context().close();

  const lp = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await lp.goto(app.url + '/review');
  await signIn(lp, lead.username, lead.password);
  await lp.locator('platina-app nav a', { hasText: 'Review' }).click();
  await lp.locator('review-page nav li button').first().click();
  await lp.locator('xray-viewer canvas[aria-label^="X-ray"]').waitFor({ timeout: 60_000 });
  await lp.waitForTimeout(800);
  await docScreenshot(lp, 'demo-review');
  await lp.locator('platina-app nav a', { hasText: 'Dashboard' }).click();
  await lp.getByRole('heading', { name: 'Dataset histogram' }).waitFor();
  await lp.waitForTimeout(800);
  await docScreenshot(lp, 'demo-dashboard');
  await lp.context().close();
} finally {
  await browser.close();
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
