/**
 * The web client in headless Chromium (Debian's, WebGL2 through SwiftShader, i.e. on the CPU) against the
 * real API with paper-sized images (1145×2072, 16-bit):
 * - Enter → next image fully drawn (keydown to the frame on the GPU after a one-pixel read-back), p50/p95,
 *   with prefetch (the default: next images fetched, decoded in the worker and uploaded as textures ahead)
 *   and without (`?prefetch=0`), beside the time to decode the same TIFF in the same browser (the floor for
 *   any viewer that does not prefetch);
 * - window/level frame time during a right-drag: from the first pointer event of a frame to that frame drawn
 *   (the handler, the page's re-render, the histogram strip, the draw and the GPU read-back), and the draw +
 *   read-back alone;
 * - the client's bundle size, gzip, beside its raw size.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { median, quantile, type BenchReport } from './report.ts';
import { startTestApp } from '../test/harness.ts';
import { ensureClientBuilt, launch, signIn } from '../test/browser/browser.ts';
import { uploadFixtures } from '../test/browser/fixtures.ts';

const W = 1145;
const H = 2072;
const STEPS = 10;
/** Time an expert spends on an image before pressing Enter (prefetch works during it). */
const LOOK_MS = 2500;

interface PerfWindow {
  __platinaPerf: { drawMs: number[]; sync: boolean };
  __bench: {
    enterAt: number;
    drawn: { id: string; at: number; first: boolean; drawMs: number }[];
    /** performance.now() of the first pointer event not yet shown by a frame; 0 when none is pending. */
    inputAt: number;
    /** Per drawn frame during a drag: first pointer event of the frame → frame drawn (GPU read-back done). */
    frameMs: number[];
  };
}

async function instrument(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as PerfWindow;
    w.__platinaPerf = { drawMs: [], sync: true };
    w.__bench = { enterAt: 0, drawn: [], inputAt: 0, frameMs: [] };
    addEventListener('keydown', (e) => e.key === 'Enter' && (w.__bench.enterAt = performance.now()), true);
    // Capture phase at the window: runs before the viewer's own handler, so its work is inside the interval.
    addEventListener(
      'pointermove',
      (e) => e.buttons && !w.__bench.inputAt && (w.__bench.inputAt = performance.now()),
      true,
    );
    addEventListener('viewer-drawn', (e) => {
      const d = (e as CustomEvent<{ imageId: string; at: number; first: boolean }>).detail;
      if (w.__bench.inputAt) {
        w.__bench.frameMs.push(d.at - w.__bench.inputAt);
        w.__bench.inputAt = 0;
      }
      w.__bench.drawn.push({
        id: d.imageId,
        at: d.at,
        first: d.first,
        drawMs: w.__platinaPerf.drawMs.at(-1) ?? 0,
      });
    });
  });
}

/**
 * Waits for the first image on the labeling page. Fails at once, with the page's own sentence, when the page
 * shows an error instead (a 5xx, a decode failure) rather than waiting out the timeout for a canvas that will
 * not come; a slow cold start (client build, first decode on a loaded machine) still gets two minutes.
 */
async function firstImage(page: Page): Promise<void> {
  const failures: string[] = [];
  const onResponse = (r: import('playwright-core').Response) => {
    if (r.status() >= 500)
      failures.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  };
  page.on('response', onResponse);
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  try {
    const state = await page.waitForFunction(
      () => {
        const app = document.querySelector('platina-app')?.shadowRoot;
        const label = app?.querySelector('label-page')?.shadowRoot;
        const viewer = label?.querySelector('xray-viewer')?.shadowRoot;
        if (viewer?.querySelector('canvas')?.getAttribute('aria-label')?.startsWith('X-ray'))
          return { ok: true, text: '' };
        const shown = [
          label?.querySelector('[role="alert"]')?.textContent,
          label?.querySelector('.empty h1')?.textContent,
          viewer?.querySelector('.message')?.textContent,
        ]
          .map((t) => t?.trim())
          .find((t) => t && t !== 'Loading…');
        return shown ? { ok: false, text: shown } : false;
      },
      null,
      { timeout: 120_000, polling: 100 },
    );
    const { ok, text } = (await state.jsonValue()) as { ok: boolean; text: string };
    if (!ok) throw new Error(`the labeling page shows "${text}" instead of an image`);
  } catch (err) {
    const extra = failures.length ? `; failed requests: ${failures.join(', ')}` : '';
    throw new Error(`no first image: ${(err as Error).message}${extra}`);
  } finally {
    page.off('response', onResponse);
  }
}

/** Labels STEPS images; returns Enter→drawn latencies and the worker's decode times of the images seen. */
async function run(
  page: Page,
): Promise<{ latencies: number[]; appMs: number[]; decodeMs: number[]; ready: number }> {
  const latencies: number[] = [];
  const appMs: number[] = [];
  let ready = 0;
  const decodeMs: number[] = [];
  const viewer = page.locator('label-page xray-viewer');
  await firstImage(page);
  for (let i = 0; i < STEPS; i++) {
    await page.waitForTimeout(LOOK_MS);
    const d = await viewer.evaluate((v: any) => v.loaded?.decodeMs as number | undefined);
    if (d !== undefined) decodeMs.push(d);
    // Was the next image already decoded and uploaded when Enter came? (a prefetch hit)
    if (await viewer.evaluate((v: any) => !!v.upcoming[0] && v.renderer.has(v.upcoming[0].image.id))) ready++;
    await page.keyboard.press('n');
    await page.keyboard.press('Enter');
    const ms = await page.waitForFunction(
      () => {
        const b = (window as unknown as PerfWindow).__bench;
        const hit = b.drawn.find((x) => x.first && x.at > b.enterAt);
        return hit ? [hit.at - b.enterAt, hit.drawMs] : false;
      },
      null,
      { timeout: 120_000, polling: 20 },
    );
    const [total, draw] = (await ms.jsonValue()) as [number, number];
    latencies.push(total);
    appMs.push(total - draw);
  }
  return { latencies, appMs, decodeMs, ready };
}

export default async function run_(): Promise<BenchReport> {
  await ensureClientBuilt();
  const assets = path.resolve(import.meta.dirname, '../client/dist/assets');
  let raw = 0;
  let gz = 0;
  for (const f of fs.readdirSync(assets).filter((f) => f.endsWith('.js') || f.endsWith('.css'))) {
    const b = fs.readFileSync(path.join(assets, f));
    raw += b.length;
    gz += gzipSync(b).length;
  }

  const app = await startTestApp();
  const browser = await launch();
  try {
    // Seven bundles: the queue spreads fresh images across bundles, as with the paper's twelve.
    for (let b = 0; b < 7; b++)
      await uploadFixtures(app, 2, {
        width: W,
        height: H,
        bundle: `B${b + 1}`,
        prefix: `b${b + 1}`,
        seed: b + 1,
      });
    const modes: Record<
      string,
      {
        latencies: number[];
        appMs: number[];
        decodeMs: number[];
        dragMs: number[];
        frameMs: number[];
        ready: number;
      }
    > = {};
    const loadBefore = os.loadavg()[0];
    for (const mode of ['prefetch', 'no-prefetch'] as const) {
      const expert = await app.user('expert');
      const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
      const page = await context.newPage();
      await instrument(page);
      await page.goto(app.url + '/');
      await signIn(page, expert.username, expert.password);
      // Navigating before the sign-in has answered would reload the page without a session (the login page
      // again, and no image ever): wait for the labeling page it leads to.
      await page.locator('label-page').waitFor({ timeout: 60_000 });
      if (mode === 'no-prefetch') await page.goto(app.url + '/label?prefetch=0');
      const r = await run(page);
      // Window/level drag on the current image: per-frame draw time with the GPU read-back.
      await page.waitForTimeout(500);
      await page.evaluate(() => {
        const w = window as unknown as PerfWindow;
        w.__platinaPerf.drawMs = [];
        w.__bench.frameMs = [];
        w.__bench.inputAt = 0;
      });
      const box = (await page.locator('xray-viewer .stage').boundingBox())!;
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      await page.mouse.move(cx, cy);
      await page.mouse.down({ button: 'right' });
      for (let i = 1; i <= 60; i++) {
        await page.mouse.move(cx + (i % 30) * 6, cy + (i % 20) * 4);
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
      }
      await page.mouse.up({ button: 'right' });
      const [dragMs, frameMs] = await page.evaluate(() => {
        const w = window as unknown as PerfWindow;
        return [w.__platinaPerf.drawMs.slice(), w.__bench.frameMs.slice()];
      });
      modes[mode] = { ...r, dragMs, frameMs };
      await context.close();
    }
    const decode = median([...modes.prefetch.decodeMs, ...modes['no-prefetch'].decodeMs]);
    const floor = {
      metric: `decode one ${W}×${H} 16-bit TIFF in the same browser (worker, p50)`,
      value: decode,
      unit: 'ms',
    };
    const row = (metric: string, value: number, note: string) => ({
      metric,
      value,
      unit: 'ms',
      reference: floor,
      ratio: value / decode,
      note,
    });
    const pre = modes.prefetch.latencies;
    const no = modes['no-prefetch'].latencies;
    const drag = [...modes.prefetch.dragMs, ...modes['no-prefetch'].dragMs];
    const frames = [...modes.prefetch.frameMs, ...modes['no-prefetch'].frameMs];
    return {
      name: 'client',
      rows: [
        row(
          'Enter → next image drawn, with prefetch, p50',
          median(pre),
          'target p95 < 100 ms; ratio = value / decode (lower is better)',
        ),
        row('Enter → next image drawn, with prefetch, p95', quantile(pre, 0.95), 'target < 100 ms'),
        row(
          'Enter → next image drawn, with prefetch, p95, without the draw itself',
          quantile(modes.prefetch.appMs, 0.95),
          'the app’s own work (state, layout, queue); the rest is software rasterisation',
        ),
        row('Enter → next image drawn, without prefetch, p50', median(no), 'fetch + decode + upload + draw'),
        row('Enter → next image drawn, without prefetch, p95', quantile(no, 0.95), ''),
        row(
          'window/level frame during a right-drag, p50',
          median(frames),
          'pointer event → frame drawn (handler, re-render, histogram, draw, GPU read-back); target < 16 ms',
        ),
        row(
          'window/level frame during a right-drag, p95',
          quantile(frames, 0.95),
          'SwiftShader (CPU) WebGL2',
        ),
        row('… of which the draw + GPU read-back, p50', median(drag), ''),
        row('… of which the draw + GPU read-back, p95', quantile(drag, 0.95), ''),
        {
          metric: 'client bundle, gzip (JS incl. decode worker)',
          value: Math.round(gz / 1024),
          unit: 'KiB',
          reference: { metric: 'same files, uncompressed', value: Math.round(raw / 1024), unit: 'KiB' },
          ratio: gz / raw,
        },
      ],
      context: {
        browser: 'Debian Chromium, headless, --use-angle=swiftshader (software WebGL2)',
        image: `${W}×${H} 16-bit, uncompressed TIFF`,
        steps: STEPS,
        lookMs: LOOK_MS,
        samples: { prefetch: pre, noPrefetch: no, dragFrames: frames.length, drawsDuringDrag: drag.length },
        prefetchHits: `${modes.prefetch.ready} of ${STEPS} Enters found the next image uploaded`,
        loadAverage1m: { before: loadBefore, after: os.loadavg()[0], cpus: os.cpus().length },
      },
    };
  } finally {
    await browser.close();
    await app.close();
  }
}
