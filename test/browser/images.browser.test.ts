/**
 * Images in and out through the browser (issue 15), in headless Chromium against the real API: a lead uploads a
 * folder (three electrodes, a duplicate, a text file and a broken TIFF), reads every outcome, pins the method-2
 * bounds, uploads an outlier that is flagged while the bounds stay, then excludes it and restores it.
 * Screenshots go to test-artifacts/screenshots/ (ignored by git).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../harness.ts';
import { buildTiff } from '../../lib/imaging/tiff-fixtures.ts';
import {
  enforceStrictCsp,
  ensureClientBuilt,
  launch,
  screenshot,
  signIn,
  watchProblems,
  type PageProblems,
} from './browser.ts';
import { fixtureTiff } from './fixtures.ts';

const T = { timeout: 90_000 };
let app: TestApp;
let browser: Browser;
let lead: TestUser;
let page: Page;
let problems: PageProblems;
let dir: string;

/** A 64×64 frame far brighter than any electrode: a test exposure that must not move the bounds. */
function outlierTiff(): Buffer {
  const px = Uint16Array.from({ length: 64 * 64 }, (_, i) => 30000 + ((i * 7919) % 35000));
  return Buffer.from(buildTiff({ width: 64, height: 64, data: px }));
}

before(async () => {
  await ensureClientBuilt();
  app = await startTestApp();
  lead = await app.user('lead', 'lead-up');
  browser = await launch();
  // The folder a lab would drop: its name becomes the bundle's.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-upload-'));
  const folder = path.join(dir, 'bundle-up');
  fs.mkdirSync(folder);
  for (let i = 1; i <= 3; i++)
    fs.writeFileSync(path.join(folder, `electrode-${i}.tif`), fixtureTiff(120, 240, 70 + i));
  fs.writeFileSync(path.join(folder, 'electrode-1-copy.tif'), fixtureTiff(120, 240, 71));
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'exposure 12 s\n');
  fs.writeFileSync(path.join(folder, 'broken.tif'), Buffer.from('II*\0 this is not really a TIFF'));
  fs.writeFileSync(path.join(dir, 'test-exposure.tif'), outlierTiff());
  // A camera's folder of sidecar files: every one is accounted for, while the page draws a bounded list.
  const many = path.join(dir, 'sidecars');
  fs.mkdirSync(many);
  for (let i = 0; i < 450; i++) fs.writeFileSync(path.join(many, `frame-${i}.xml`), '<x/>');

  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await enforceStrictCsp(context);
  page = await context.newPage();
  problems = watchProblems(page);
  await page.goto(app.url + '/');
  await signIn(page, lead.username, lead.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Images' }).click();
  await page.getByRole('heading', { name: 'Add images' }).waitFor();
});

after(async () => {
  await browser?.close();
  await app?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const summary = () => page.getByTestId('upload-summary');
const rowOf = (file: string) => page.getByTestId('upload-row').filter({ hasText: file });
const inForce = () => page.getByTestId('bounds-in-force').textContent();

describe('images in and out through the browser', () => {
  test('a dropped folder: stored, duplicate and rejected files each accounted for', T, async () => {
    await page.locator('upload-panel input[name=folder]').setInputFiles(path.join(dir, 'bundle-up'));
    const bundleInput = page.locator('upload-panel input#bundle');
    await poll('the folder to name the bundle', async () => (await bundleInput.inputValue()) === 'bundle-up');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await summary().filter({ hasText: '6 of 6 files done' }).waitFor({ timeout: 60_000 });
    const text = (await summary().textContent())!.replace(/\s+/g, ' ');
    assert.match(text, /3 stored · 1 duplicate · 2 rejected/);
    assert.match(
      (await rowOf('notes.txt').textContent())!,
      /rejected.*not a TIFF: only \.tif and \.tiff files are uploaded/s,
    );
    assert.match((await rowOf('broken.tif').textContent())!, /rejected/);
    assert.match(
      (await rowOf('electrode-1-copy.tif').textContent())!,
      /duplicate.*same bytes as bundle-up\/electrode-1\.tif/s,
    );
    const listed = await app.request('GET', '/api/images?bundle=bundle-up', { token: lead.token });
    assert.deepEqual(listed.body.items.map((i: { name: string }) => i.name).sort(), [
      'electrode-1.tif',
      'electrode-2.tif',
      'electrode-3.tif',
    ]);
    await screenshot(page, 'images-upload-folder');
  });

  test('pinned method-2 bounds stay when an outlier is uploaded, which is flagged', T, async () => {
    await page.getByTestId('bounds-in-force').filter({ hasText: 'Gmin' }).waitFor();
    const before = (await inForce())!.replace(/\s+/g, ' ').trim();
    await page.getByRole('button', { name: 'Pin bounds' }).click();
    await page.getByTestId('bounds-in-force').filter({ hasText: 'pinned' }).waitFor();
    const pinned = (await inForce())!.replace(/\s+/g, ' ').trim();
    assert.equal(pinned, `${before} · pinned`);

    await page.locator('upload-panel input[name=files]').setInputFiles(path.join(dir, 'test-exposure.tif'));
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await summary().filter({ hasText: '1 of 1 files done' }).waitFor({ timeout: 60_000 });
    assert.match((await summary().textContent())!, /1 outside the bounds/);
    assert.match(
      (await rowOf('test-exposure.tif').textContent())!,
      /flagged.*lie far outside the method-2 bounds .* which are pinned and stay/s,
    );
    // The page reloads the stats after a batch: the bounds in force are those pinned, the images' own moved.
    await page.getByTestId('bounds-computed').filter({ hasText: '4 included images' }).waitFor();
    assert.equal((await inForce())!.replace(/\s+/g, ' ').trim(), pinned);
    const stats = (await app.request('GET', '/api/dataset/stats', { token: lead.token })).body;
    assert.equal(`Gmin ${stats.globalMin} · Gmax ${stats.globalMax} (16-bit) · pinned`, pinned);
    assert.ok(stats.computedMax > stats.globalMax, 'the outlier would have moved them');
    await screenshot(page, 'images-outlier-flagged');
  });

  test(
    'a batch of hundreds: the summary counts every file, the list draws a bounded number of rows',
    T,
    async () => {
      await page.locator('upload-panel input#bundle').fill('sidecars');
      await page.locator('upload-panel input[name=folder]').setInputFiles(path.join(dir, 'sidecars'));
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await summary().filter({ hasText: '450 of 450 files done' }).waitFor({ timeout: 60_000 });
      assert.match(
        (await summary().textContent())!.replace(/\s+/g, ' '),
        /0 stored · 0 duplicates · 450 rejected/,
      );
      assert.equal(await page.getByTestId('upload-row').count(), 400);
      await page.getByText('… and 50 more files (the summary counts all).').waitFor();
    },
  );

  test('an excluded image leaves the bundle count and comes back when restored', T, async () => {
    const row = page.getByTestId('image-row').filter({ hasText: 'test-exposure.tif' });
    await row.getByRole('button', { name: 'Exclude…' }).click();
    const card = page.getByTestId('selected-image');
    await card.getByLabel('Reason for excluding').fill('test exposure, not an electrode');
    await card.getByRole('button', { name: 'Exclude image' }).click();
    await card.getByTestId('excluded').filter({ hasText: 'test exposure, not an electrode' }).waitFor();
    await page.getByTestId('bounds-computed').filter({ hasText: '3 included images, 1 excluded' }).waitFor();
    await row.filter({ hasText: 'excluded' }).waitFor();
    await card.getByText('exclude: “test exposure, not an electrode”').waitFor();
    await screenshot(page, 'images-excluded');

    await card.getByRole('button', { name: 'Restore image' }).click();
    await card.getByLabel('Reason for excluding').waitFor();
    await page.getByTestId('bounds-computed').filter({ hasText: '4 included images' }).waitFor();
    const history = await app.request('GET', `/api/images/${await idOf('test-exposure.tif')}/exclusions`, {
      token: lead.token,
    });
    assert.deepEqual(
      history.body.map((e: { action: string; by: string }) => [e.action, e.by]),
      [
        ['exclude', lead.username],
        ['restore', lead.username],
      ],
    );
    assert.deepEqual(problems.errors, []);
  });
});

async function poll(what: string, fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function idOf(name: string): Promise<string> {
  const r = await app.request('GET', '/api/images?bundle=bundle-up', { token: lead.token });
  return r.body.items.find((i: { name: string }) => i.name === name).id;
}
