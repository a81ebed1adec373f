/**
 * The viewer's pixels, read back from the WebGL canvas, against the paper's formula computed here from the true
 * 16-bit value: the shader must draw exactly `stretch(x, lo, hi)` (lib/imaging/conversions.ts) for the window
 * it shows, in every preset (M4 as three channels), inverted, and zoomed in, and the background outside the
 * image. The fixture's flat marker square (value MARKER_VALUE) sits in the image's centre, which "fit" and
 * "1:1" put in the canvas's centre.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../harness.ts';
import { ensureClientBuilt, launch, signIn, watchProblems } from './browser.ts';
import { MARKER_VALUE, uploadFixtures, type UploadedImage } from './fixtures.ts';
import { stretch } from '../../lib/imaging/conversions.ts';

let app: TestApp;
let browser: Browser;
let image: UploadedImage;

before(async () => {
  await ensureClientBuilt();
  app = await startTestApp();
  browser = await launch();
  [image] = await uploadFixtures(app, 1, { width: 300, height: 500, seed: 7 });
});

after(async () => {
  await browser?.close();
  await app?.close();
});

/** RGB of the canvas pixel at a position given as fractions of its size (after compositing). */
async function pixelAt(page: Page, fx: number, fy: number): Promise<[number, number, number]> {
  return page.locator('xray-viewer .stage canvas').evaluate(
    (c: HTMLCanvasElement, [fx, fy]) => {
      const copy = document.createElement('canvas');
      copy.width = c.width;
      copy.height = c.height;
      const g = copy.getContext('2d')!;
      g.drawImage(c, 0, 0);
      const d = g.getImageData(Math.floor(c.width * fx), Math.floor(c.height * fy), 1, 1).data;
      return [d[0], d[1], d[2]] as [number, number, number];
    },
    [fx, fy],
  );
}

/** The grayscale window the viewer says it shows ("W lo–hi · zoom"). */
async function shownWindow(page: Page): Promise<{ lo: number; hi: number }> {
  const text = (await page.getByTestId('window').textContent()) ?? '';
  const m = /W (-?\d+)–(-?\d+)/.exec(text);
  assert.ok(m, `no grayscale window in "${text}"`);
  return { lo: Number(m[1]), hi: Number(m[2]) };
}

/** Presses a key and waits until the canvas has been redrawn (two frames: the update, then the draw). */
async function press(page: Page, key: string): Promise<void> {
  await page.keyboard.press(key);
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))),
  );
}

const level = (w: { lo: number; hi: number }) => stretch(MARKER_VALUE, w.lo, w.hi);

describe('the viewer draws the paper’s stretch of the true 16-bit values', () => {
  test(
    'every preset, inverted and zoomed in, pixel for pixel at the marker',
    { timeout: 60_000 },
    async () => {
      const expert = await app.user('expert');
      const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      const page = await context.newPage();
      const problems = watchProblems(page);
      await page.goto(app.url + '/');
      await signIn(page, expert.username, expert.password);
      await page.locator('xray-viewer canvas[aria-label^="X-ray"]').waitFor({ timeout: 30_000 });
      await press(page, 'r');

      const stats = (await app.request<any>('GET', `/api/images/${image.id}`, { token: expert.token })).body
        .stats;
      const dataset = (await app.request<any>('GET', '/api/dataset/stats', { token: expert.token })).body;

      // Auto, then M1, M2, M3 (the M key steps through the paper's methods after Auto).
      const auto = await shownWindow(page);
      assert.deepEqual(
        await pixelAt(page, 0.5, 0.5),
        Array(3).fill(level(auto)),
        `auto ${JSON.stringify(auto)}`,
      );
      const expected = [
        { lo: 0, hi: 65536 },
        { lo: dataset.globalMin, hi: dataset.globalMax },
        { lo: stats.p0_01, hi: stats.p99_99 },
      ];
      for (const [i, w] of expected.entries()) {
        await press(page, 'm');
        assert.deepEqual(await shownWindow(page), w, `method ${i + 1}'s window`);
        assert.deepEqual(await pixelAt(page, 0.5, 0.5), Array(3).fill(level(w)), `method ${i + 1}`);
      }
      assert.equal(level(expected[0]), Math.floor(MARKER_VALUE / 256), 'method 1 is floor(x / 256)');

      // M4: methods 1, 2, 3 as R, G, B.
      await press(page, 'm');
      assert.deepEqual(await pixelAt(page, 0.5, 0.5), expected.map(level));

      // Back to M3, inverted; then one image pixel per screen pixel (reads level 0, the true values).
      await press(page, 'm');
      await press(page, 'm');
      await press(page, 'm');
      assert.deepEqual(await shownWindow(page), expected[2]);
      await press(page, 'i');
      assert.deepEqual(await pixelAt(page, 0.5, 0.5), Array(3).fill(255 - level(expected[2])));
      await press(page, 'i');
      await press(page, 'o');
      assert.deepEqual(await pixelAt(page, 0.5, 0.5), Array(3).fill(level(expected[2])));

      // Fitted, the tall image leaves the canvas's left edge to the background colour.
      await press(page, 'f');
      assert.deepEqual(await pixelAt(page, 0.01, 0.5), [27, 29, 33]);
      assert.deepEqual(problems.errors, []);
      await context.close();
    },
  );
});
