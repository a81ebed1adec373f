/**
 * The heatmap overlay in Chromium (issue 13, item 4): a plate with one bright blob at a known place and a stored
 * heatmap whose hot cells cover that place. As a lead, H lays the heatmap over the X-ray, and its hottest region
 * must lie over the blob as the image layer draws it — found in the WebGL canvas's own pixels, not in the viewer's
 * transform — fitted, zoomed in at the blob, panned and at 1:1. An expert under the blind rule is never offered
 * the overlay; the lead's review queue shows a heatmap thumbnail beside an item that has one.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../harness.ts';
import { enforceStrictCsp, ensureClientBuilt, launch, screenshot, signIn, watchProblems } from './browser.ts';
import { buildTiff } from '../../lib/imaging/tiff-fixtures.ts';
import { buildEvidence, plantedHeatmap } from '../factories/images.ts';

const T = { timeout: 90_000 };
const W = 300;
const H = 500;
/** The planted defect, in image pixels: exactly heatmap cells [10, 13) × [17, 20) of a 15 × 25 grid (20 px cells). */
const BLOB = { x0: 200, y0: 340, x1: 260, y1: 400 };
const GRID = { width: 15, height: 25 };
const HOT = { x0: 10, y0: 17, x1: 13, y1: 20, value: 7 };

let app: TestApp;
let browser: Browser;

/** A flat plate (2000 ± a little texture) with one bright square blob (3000) at BLOB. */
function blobTiff(): Buffer {
  const px = new Uint16Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const inBlob = x >= BLOB.x0 && x < BLOB.x1 && y >= BLOB.y0 && y < BLOB.y1;
      px[y * W + x] = inBlob ? 3000 : 2000 + ((x * 31 + y * 17) % 23);
    }
  return Buffer.from(buildTiff({ width: W, height: H, data: px }));
}

async function uploadWithHeatmap(name: string, bundle: string): Promise<string> {
  const r = await app.request('POST', `/api/images?bundle=${bundle}&name=${name}`, {
    token: app.admin.token,
    body: blobTiff(),
    headers: { 'content-type': 'image/tiff' },
  });
  assert.ok(r.status === 201 || r.status === 200, r.text);
  await buildEvidence(app.server.services.db, r.body.id, {
    ...GRID,
    values: plantedHeatmap(GRID.width, GRID.height, HOT),
  });
  return String(r.body.id);
}

before(async () => {
  await ensureClientBuilt();
  app = await startTestApp();
  browser = await launch();
  await uploadWithHeatmap('heat-1.tif', 'H1');
});

after(async () => {
  await browser?.close();
  await app?.close();
});

async function openAs(user: TestUser, path = '/'): Promise<{ page: Page; problems: { errors: string[] } }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  await enforceStrictCsp(context);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(app.url + path);
  await signIn(page, user.username, user.password);
  return { page, problems };
}

/** Presses a key and waits two frames (the update, then the draw). */
async function press(page: Page, key: string): Promise<void> {
  await page.keyboard.press(key);
  await frames(page);
}
const frames = (page: Page) =>
  page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));

interface Measured {
  /** Bounding box (canvas device pixels) of the bright blob as the WebGL image layer drew it. */
  blob: { x0: number; y0: number; x1: number; y1: number } | null;
  /** Where the overlay is hottest: the centroid of its pixels within 5 % of its highest opacity. */
  hot: { x: number; y: number; alpha: number } | null;
  /** The overlay's opacity at the canvas pixel of the image's top-left quarter centre (ordinary noise there). */
  quietAlpha: number;
}

/** Reads both layers of the viewer back: the image (WebGL) and the heatmap overlay (2D). */
async function measure(page: Page): Promise<Measured> {
  return page.locator('xray-viewer').evaluate((viewer: HTMLElement) => {
    const root = viewer.shadowRoot!;
    const image = root.querySelector<HTMLCanvasElement>('canvas[role="img"]')!;
    const overlay = root.querySelector<HTMLCanvasElement>('canvas.heatmap');
    const copy = document.createElement('canvas');
    copy.width = image.width;
    copy.height = image.height;
    const g = copy.getContext('2d')!;
    g.drawImage(image, 0, 0);
    const px = g.getImageData(0, 0, copy.width, copy.height).data;
    let blob: Measured['blob'] = null;
    for (let y = 0; y < copy.height; y++)
      for (let x = 0; x < copy.width; x++) {
        if (px[(y * copy.width + x) * 4] < 128) continue;
        blob = blob
          ? {
              x0: Math.min(blob.x0, x),
              y0: Math.min(blob.y0, y),
              x1: Math.max(blob.x1, x),
              y1: Math.max(blob.y1, y),
            }
          : { x0: x, y0: y, x1: x, y1: y };
      }
    if (!overlay) return { blob, hot: null, quietAlpha: -1 };
    const a = overlay.getContext('2d')!.getImageData(0, 0, overlay.width, overlay.height).data;
    let max = 0;
    for (let i = 3; i < a.length; i += 4) max = Math.max(max, a[i]);
    let sx = 0;
    let sy = 0;
    let n = 0;
    for (let i = 3; i < a.length; i += 4)
      if (max > 0 && a[i] >= max * 0.95) {
        const p = (i - 3) / 4;
        sx += p % overlay.width;
        sy += Math.floor(p / overlay.width);
        n++;
      }
    // The image's top-left quarter centre, from the blob's box (BLOB is 60 px wide at image x 200–260).
    const scale = blob ? (blob.x1 - blob.x0 + 1) / 60 : 1;
    const qx = Math.round(blob ? blob.x0 - 200 * scale + 75 * scale : 0);
    const qy = Math.round(blob ? blob.y0 - 340 * scale + 125 * scale : 0);
    const inside = qx >= 0 && qy >= 0 && qx < overlay.width && qy < overlay.height;
    return {
      blob,
      hot: n ? { x: sx / n, y: sy / n, alpha: max } : null,
      quietAlpha: inside ? a[(qy * overlay.width + qx) * 4 + 3] : 0,
    };
  });
}

/** The overlay's hottest region lies over the blob the image layer drew; ordinary noise stays clear. */
function assertAligned(m: Measured, when: string): void {
  assert.ok(m.blob, `${when}: the blob is on screen`);
  assert.ok(m.hot, `${when}: the overlay drew something`);
  const { blob, hot } = { blob: m.blob!, hot: m.hot! };
  assert.ok(hot.alpha > 150, `${when}: the hot cells are strongly coloured (alpha ${hot.alpha})`);
  assert.ok(
    hot.x >= blob.x0 && hot.x <= blob.x1 && hot.y >= blob.y0 && hot.y <= blob.y1,
    `${when}: hottest overlay point (${hot.x.toFixed(1)}, ${hot.y.toFixed(1)}) lies over the blob ${JSON.stringify(blob)}`,
  );
  // The blob's centre is the hot region's centre: aligned to within a tenth of the blob's size.
  const tol = (blob.x1 - blob.x0) / 10 + 2;
  assert.ok(
    Math.abs(hot.x - (blob.x0 + blob.x1) / 2) < tol,
    `${when}: x centred (${hot.x} vs ${blob.x0}–${blob.x1})`,
  );
  assert.ok(
    Math.abs(hot.y - (blob.y0 + blob.y1) / 2) < tol,
    `${when}: y centred (${hot.y} vs ${blob.y0}–${blob.y1})`,
  );
  assert.equal(m.quietAlpha, 0, `${when}: ordinary noise is transparent`);
}

describe('the heatmap overlay', () => {
  test('an expert under the blind rule is never offered the overlay', T, async () => {
    const expert = await app.user('expert');
    const { page, problems } = await openAs(expert);
    await page.locator('xray-viewer canvas[aria-label^="X-ray heat-1.tif"]').waitFor({ timeout: 30_000 });
    await page.waitForTimeout(500); // time a heatmap fetch would have taken
    await press(page, 'h');
    assert.equal(await page.getByRole('button', { name: 'Heatmap', exact: true }).count(), 0);
    assert.equal(await page.getByTestId('heatmap-overlay').count(), 0);
    assert.deepEqual(problems.errors, []);
    await page.context().close();
  });

  test('as lead, H lays it over the planted defect: fitted, zoomed, panned and at 1:1', T, async () => {
    const lead = await app.user('lead');
    const { page, problems } = await openAs(lead);
    await page.locator('xray-viewer canvas[aria-label^="X-ray heat-1.tif"]').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Heatmap', exact: true }).waitFor();
    await press(page, 'r');
    for (let i = 0; i < 3; i++) await press(page, 'm'); // method 3: the image's own p0.01–p99.99, blob white
    assert.equal(await page.getByTestId('heatmap-overlay').count(), 0, 'off until H');
    assert.equal((await measure(page)).hot, null);

    await press(page, 'h');
    await page.getByTestId('heatmap-overlay').waitFor();
    await page.getByLabel('Heatmap opacity').waitFor();
    await frames(page);
    const fitted = await measure(page);
    assertAligned(fitted, 'fitted');

    // Zoom in with the wheel at the blob's centre, then pan with a left-drag.
    const box = (await page.locator('xray-viewer .stage canvas[role="img"]').boundingBox())!;
    const dpr = await page.evaluate(() => devicePixelRatio);
    const blobCentre = {
      x: box.x + (fitted.blob!.x0 + fitted.blob!.x1) / 2 / dpr,
      y: box.y + (fitted.blob!.y0 + fitted.blob!.y1) / 2 / dpr,
    };
    await page.mouse.move(blobCentre.x, blobCentre.y);
    await page.mouse.wheel(0, -600);
    await frames(page);
    await frames(page);
    const zoomed = await measure(page);
    assert.ok(zoomed.blob!.x1 - zoomed.blob!.x0 > 1.8 * (fitted.blob!.x1 - fitted.blob!.x0), 'zoomed in');
    assertAligned(zoomed, 'zoomed');
    await screenshot(page, 'heatmap-overlay-zoomed');

    await page.mouse.move(blobCentre.x, blobCentre.y);
    await page.mouse.down();
    await page.mouse.move(blobCentre.x - 120, blobCentre.y - 90, { steps: 5 });
    await page.mouse.up();
    await frames(page);
    const panned = await measure(page);
    assert.ok(Math.abs(panned.blob!.x0 - zoomed.blob!.x0 + 120 * dpr) <= 2, 'panned');
    assertAligned(panned, 'panned');

    await press(page, 'o');
    assertAligned(await measure(page), 'one to one');
    await press(page, 'f');
    assertAligned(await measure(page), 'fitted again');
    await screenshot(page, 'heatmap-overlay');

    // The opacity control fades the layer without redrawing its colours.
    await page.getByLabel('Heatmap opacity').fill('30');
    await frames(page);
    assert.equal(
      await page.getByTestId('heatmap-overlay').evaluate((c) => getComputedStyle(c).opacity),
      '0.3',
    );
    await press(page, 'h');
    assert.equal(await page.getByTestId('heatmap-overlay').count(), 0, 'H again hides it');
    assert.equal(await page.getByLabel('Heatmap opacity').count(), 0, 'and its control');
    assert.deepEqual(problems.errors, []);
    await page.context().close();
  });

  test(
    'before any model the lead’s dashboard lists the queue’s next images with their reasons',
    T,
    async () => {
      // What the runner's evidence job writes for a fresh upload (model-runner/src/evidence/unusualness.ts).
      const id = (await app.request('GET', '/api/images?bundle=H1', { token: app.admin.token })).body.items[0]
        .id;
      await app.server.services.db
        .insertInto('image_unusualness')
        .values({
          image_id: id,
          version: 'evidence-1',
          score: 9.5,
          bundle_percentile: 100,
          reason: 'looks unusual: top 1 % in H1, strongest in residual energy (7.0 × the normal spread)',
        })
        .execute();
      const lead = await app.user('lead');
      const { page, problems } = await openAs(lead, '/dashboard');
      await page.locator('platina-app nav a', { hasText: 'Dashboard' }).click();
      const card = page.locator('upcoming-queue');
      const row = card.locator('tr', { hasText: 'heat-1.tif' });
      await row.waitFor();
      assert.match(
        (await row.innerText()).replace(/\s+/g, ' '),
        /unusual \(no labels needed\): looks unusual: top 1 % in H1, strongest in residual energy/,
      );
      assert.match(await card.locator('p').first().innerText(), /No model yet/);
      await row.locator('heatmap-thumb canvas').waitFor();
      await screenshot(page, 'dashboard-upcoming');
      assert.deepEqual(problems.errors, []);
      await page.context().close();
    },
  );

  test('the lead’s review queue shows a heatmap thumbnail beside an item that has one', T, async () => {
    const settings = await app.request('PUT', '/api/settings', {
      token: app.admin.token,
      json: { votesRequired: 2, votesMax: 2 },
    });
    assert.equal(settings.status, 200, settings.text);
    const tie = (await app.request('GET', '/api/images?bundle=H1', { token: app.admin.token })).body.items[0]
      .id;
    for (const verdict of ['normal', 'abnormal']) {
      const e = await app.user('expert');
      const r = await app.request('PUT', `/api/images/${tie}/votes/me`, {
        token: e.token,
        json: { verdict, anomalies: [] },
      });
      assert.equal(r.status, 200, r.text);
    }
    const lead = await app.user('lead');
    const { page, problems } = await openAs(lead, '/review');
    await page.locator('platina-app nav a', { hasText: 'Review' }).click();
    const item = page.getByRole('button', { name: /heat-1\.tif/ });
    const thumb = item.locator('heatmap-thumb canvas');
    await thumb.waitFor();
    assert.match((await thumb.getAttribute('aria-label')) ?? '', /strongest 7\.0 noise units/);
    // The thumbnail's hottest pixel is a planted cell.
    const hottest = await thumb.evaluate((c: HTMLCanvasElement) => {
      const a = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let best = 0;
      for (let i = 3; i < a.length; i += 4) if (a[i] > a[best * 4 + 3]) best = (i - 3) / 4;
      return { x: best % c.width, y: Math.floor(best / c.width), w: c.width, h: c.height };
    });
    assert.deepEqual([hottest.w, hottest.h], [GRID.width, GRID.height]);
    assert.ok(hottest.x >= HOT.x0 && hottest.x < HOT.x1 && hottest.y >= HOT.y0 && hottest.y < HOT.y1);

    await item.click();
    await page.locator('xray-viewer canvas[aria-label^="X-ray heat-1.tif"]').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Heatmap', exact: true }).waitFor();
    await press(page, 'h');
    await page.getByTestId('heatmap-overlay').waitFor();
    await screenshot(page, 'heatmap-review');
    assert.deepEqual(problems.errors, []);
    await page.context().close();
  });
});
