/**
 * The web client, driven in headless Chromium against the real API (fresh database, port 0):
 * keyboard labeling, the window/level shader, an expired session that must not lose a vote, and the lead
 * resolving a tie. Every page runs under a strict CSP (no inline styles or scripts) and must log no error.
 * Screenshots of every page go to test-artifacts/screenshots/ (ignored by git).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestUser } from '../harness.ts';
import {
  enforceStrictCsp,
  ensureClientBuilt,
  launch,
  screenshot,
  signIn,
  watchProblems,
  type PageProblems,
} from './browser.ts';
import { MARKER_VALUE, uploadFixtures, type UploadedImage } from './fixtures.ts';
import { ANOMALY_TYPES } from '../../lib/anomaly-types.ts';
import { buildActiveModel } from '../factories/votes.ts';

const T = { timeout: 60_000 };
let app: TestApp;
let browser: Browser;
let images: UploadedImage[];

/** Votes of one image as the lead sees them. */
async function votesOf(imageId: string, lead: TestUser) {
  const r = await app.request<any[]>('GET', `/api/images/${imageId}/votes`, { token: lead.token });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function poll<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function openAs(user: TestUser, path = '/'): Promise<{ page: Page; problems: PageProblems }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  await enforceStrictCsp(context);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(app.url + path);
  await signIn(page, user.username, user.password);
  return { page, problems };
}

const currentName = (page: Page) => page.getByTestId('image-name').textContent();

/** Waits until the viewer shows a decoded image (its canvas is labelled with the image's name). */
async function waitForViewer(page: Page, name?: string): Promise<void> {
  await page.locator(`xray-viewer canvas[aria-label^="X-ray ${name ?? ''}"]`).waitFor({ timeout: 30_000 });
}

/** On the labeling page: waits for the image and returns its name. */
async function waitForImage(page: Page): Promise<string> {
  await waitForViewer(page);
  return (await currentName(page))!;
}

/** Sum of the canvas's RGB values in its central region, read back from the WebGL canvas. */
async function canvasSignature(page: Page): Promise<number[]> {
  return page.locator('xray-viewer .stage canvas').evaluate((c: HTMLCanvasElement) => {
    const copy = document.createElement('canvas');
    copy.width = c.width;
    copy.height = c.height;
    const g = copy.getContext('2d')!;
    g.drawImage(c, 0, 0);
    const d = g.getImageData(
      Math.floor(c.width / 4),
      Math.floor(c.height / 4),
      c.width >> 1,
      c.height >> 1,
    ).data;
    let sum = 0;
    let bright = 0;
    for (let i = 0; i < d.length; i += 4) {
      sum += d[i] + d[i + 1] + d[i + 2];
      if (d[i] > 128) bright++;
    }
    return [sum, bright];
  });
}

before(async () => {
  await ensureClientBuilt();
  app = await startTestApp();
  browser = await launch();
  images = await uploadFixtures(app, 6);
});

after(async () => {
  await browser?.close();
  await app?.close();
});

describe('web client in Chromium', () => {
  test('an expert labels three images by keyboard only and the votes arrive in the API', T, async () => {
    const expert = await app.user('expert');
    const lead = await app.user('lead');
    const { page, problems } = await openAs(expert);
    await screenshot(page, 'label-loading');
    const voted: { name: string; keys: string[]; verdict: string; anomalies: string[] }[] = [
      { name: '', keys: ['n'], verdict: 'normal', anomalies: [] },
      {
        name: '',
        keys: ['a', '1', '9', '-'],
        verdict: 'abnormal',
        anomalies: ['scratches', 'agglomerate', 'ink_entry_exit'],
      },
      { name: '', keys: ['a', '3', '3', '0'], verdict: 'abnormal', anomalies: ['ink_fluctuations'] },
    ];
    for (const [i, v] of voted.entries()) {
      v.name = await waitForImage(page);
      for (const k of v.keys) await page.keyboard.press(k);
      if (i === 1) {
        await page.keyboard.press('?');
        await page.getByRole('dialog', { name: 'Labeling keys' }).waitFor();
        await screenshot(page, 'label-help');
        await page.keyboard.press('Escape');
        await screenshot(page, 'label');
      }
      await page.keyboard.press('Enter');
      await poll('the next image', async () => (await currentName(page)) !== v.name);
    }
    const byName = new Map(images.map((im) => [im.name, im.id]));
    for (const v of voted) {
      const votes = await poll(`the vote on ${v.name}`, async () => {
        const list = await votesOf(byName.get(v.name)!, lead);
        return list.length ? list : undefined;
      });
      assert.equal(votes[0].user.username, expert.username);
      assert.equal(votes.length, 1);
      assert.equal(votes[0].verdict, v.verdict);
      assert.deepEqual([...votes[0].anomalies].sort(), [...v.anomalies].sort());
    }
    assert.equal(await page.locator('outbox-status li[data-state="sent"]').count(), 3);

    // Backspace goes back to the previous image with the vote filled in; Enter replaces that vote.
    await page.keyboard.press('Backspace');
    await poll('the previous image', async () => (await currentName(page)) === voted[2].name);
    await waitForImage(page);
    assert.equal(
      await page.getByRole('button', { name: 'Abnormal', exact: true }).getAttribute('aria-pressed'),
      'true',
    );
    await page.keyboard.press('n');
    await page.keyboard.press('Enter');
    const changed = await poll('the changed vote', async () => {
      const [v] = await votesOf(byName.get(voted[2].name)!, lead);
      return v?.verdict === 'normal' ? v : undefined;
    });
    assert.deepEqual(changed.anomalies, ['ink_fluctuations']);
    const history = await app.request<any[]>(
      'GET',
      `/api/images/${byName.get(voted[2].name)}/votes/history`,
      {
        token: lead.token,
      },
    );
    assert.deepEqual(
      history.body.map((v) => v.verdict),
      ['abnormal', 'normal'],
    );
    assert.deepEqual(problems.errors, []);
    await page.context().close();
  });

  test(
    'a right-drag changes the rendered pixels and the readout shows the true 16-bit value',
    T,
    async () => {
      const expert = await app.user('expert');
      const { page, problems } = await openAs(expert);
      await waitForImage(page);
      await page.waitForTimeout(300);
      const before = await canvasSignature(page);
      const windowBefore = await page.getByTestId('window').textContent();
      const stage = page.locator('xray-viewer .stage');
      const box = (await stage.boundingBox())!;
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      // The flat marker square sits in the image's centre, which "fit" puts in the stage's centre.
      await page.mouse.move(cx, cy);
      await page.getByTestId('readout').waitFor();
      assert.match((await page.getByTestId('readout').textContent())!, new RegExp(`\\b${MARKER_VALUE}\\b`));
      await page.mouse.down({ button: 'right' });
      for (let i = 1; i <= 10; i++) await page.mouse.move(cx + i * 12, cy + i * 6);
      await page.mouse.up({ button: 'right' });
      await page.waitForTimeout(300);
      const after = await canvasSignature(page);
      assert.notEqual(await page.getByTestId('window').textContent(), windowBefore);
      assert.notDeepEqual(after, before, 'the canvas pixels must change with the window');
      // Inversion is also a shader change: the bright count flips.
      await page.keyboard.press('i');
      await page.waitForTimeout(300);
      const inverted = await canvasSignature(page);
      assert.notDeepEqual(inverted, after);
      await screenshot(page, 'viewer-window-level');
      assert.deepEqual(problems.errors, []);
      await page.context().close();
    },
  );

  test(
    'an expired session sends the user to the login page and the pending vote is sent after signing in',
    T,
    async () => {
      const expert = await app.user('expert');
      const lead = await app.user('lead');
      const { page } = await openAs(expert);
      const name = await waitForImage(page);
      const imageId = images.find((i) => i.name === name)!.id;
      // Let the prefetch settle first: a 401 on a prefetch request before Enter would (rightly) show the login
      // page before there is a vote to keep.
      const labelPage = await page.locator('label-page').elementHandle();
      await page.waitForFunction(
        (el: any) => !el.prefetching && el.upcoming.every((s: any) => s.loaded || s.error),
        labelPage,
        { timeout: 30_000 },
      );
      // Revoke the token behind the client's back, as an expiry would.
      const token = await page.evaluate(
        () => JSON.parse(sessionStorage.getItem('platina.session')!).token as string,
      );
      assert.equal((await app.request('POST', '/api/auth/logout', { token })).status, 204);
      await page.keyboard.press('a');
      await page.keyboard.press('5');
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
      assert.match((await page.getByRole('status').first().textContent())!, /1 vote is kept/);
      await screenshot(page, 'login-session-expired');
      const mine = async () =>
        (await votesOf(imageId, lead)).filter((v) => (v.user?.username ?? v.user) === expert.username);
      assert.deepEqual(await mine(), []);
      await signIn(page, expert.username, expert.password);
      const votes = await poll('the kept vote', async () => {
        const list = await mine();
        return list.length ? list : undefined;
      });
      assert.equal(votes[0].verdict, 'abnormal');
      assert.deepEqual(votes[0].anomalies, ['smudges']);
      await page.context().close();
    },
  );

  test(
    'a vote cast while the network is down is shown as not saved, retried, and arrives once it is back',
    { timeout: 100_000 },
    async () => {
      const expert = await app.user('expert');
      const lead = await app.user('lead');
      const { page } = await openAs(expert);
      const name = await waitForImage(page);
      const imageId = images.find((i) => i.name === name)!.id;
      await page.context().setOffline(true);
      await page.keyboard.press('n');
      await page.keyboard.press('Enter');
      const row = page.locator('outbox-status li[data-state="retrying"]', { hasText: name });
      await row.waitFor({ timeout: 20_000 });
      assert.match((await row.textContent())!, /not saved yet, retrying/);
      await screenshot(page, 'label-offline-retrying');
      await page.context().setOffline(false);
      // No click needed: the outbox retries on its own (backoff 1 s, 2 s, 4 s … at most 30 s).
      const votes = await poll(
        'the retried vote',
        async () => {
          const list = (await votesOf(imageId, lead)).filter((v) => v.user.username === expert.username);
          return list.length ? list : undefined;
        },
        45_000,
      );
      assert.equal(votes[0].verdict, 'normal');
      await page.locator('outbox-status li[data-state="sent"]', { hasText: name }).waitFor();
      await page.context().close();
    },
  );

  test('the lead resolves a tie with a reason on the review page', T, async () => {
    assert.equal(
      (
        await app.request('PUT', '/api/settings', {
          token: app.admin.token,
          json: { votesRequired: 2, votesMax: 2 },
        })
      ).status,
      200,
    );
    const [tie] = await uploadFixtures(app, 1, { prefix: 'tie', bundle: 'B2', seed: 9 });
    for (const verdict of ['normal', 'abnormal']) {
      const e = await app.user('expert');
      const r = await app.request('PUT', `/api/images/${tie.id}/votes/me`, {
        token: e.token,
        json: { verdict, anomalies: [] },
      });
      assert.equal(r.status, 200, r.text);
    }
    const lead = await app.user('lead');
    const c0 = await app.request('GET', `/api/images/${tie.id}/consensus`, { token: lead.token });
    assert.equal(c0.body.status, 'needs_lead');

    const { page, problems } = await openAs(lead, '/review');
    await page.locator('platina-app nav a', { hasText: 'Review' }).click();
    await page.getByRole('button', { name: new RegExp(tie.name) }).click();
    await waitForViewer(page, tie.name);
    await page.getByRole('button', { name: 'Abnormal', exact: true }).click();
    await page.getByRole('button', { name: 'Bubbles', exact: true }).click();
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText('Give a reason').waitFor();
    await page.getByLabel('Reason (required)').fill('Rimmed round spot at the lower edge: a bubble.');
    await screenshot(page, 'review');
    await page.getByRole('button', { name: 'Resolve' }).click();
    const c1 = await poll('the resolution', async () => {
      const r = await app.request('GET', `/api/images/${tie.id}/consensus`, { token: lead.token });
      return r.body.status === 'resolved' ? r.body : undefined;
    });
    assert.equal(c1.method, 'lead');
    assert.equal(c1.verdict, 'abnormal');
    assert.deepEqual(c1.anomalies, ['bubbles']);
    assert.match(c1.reason, /bubble/);
    await page.getByTestId('consensus').getByText('resolved').waitFor();
    assert.deepEqual(problems.errors, []);
    await page.context().close();
  });

  test('the dashboard and admin pages render for an admin without errors', T, async () => {
    const { page, problems } = await openAs(app.admin);
    await page.getByRole('heading', { name: 'Bundles' }).waitFor();
    await page.getByRole('heading', { name: 'Dataset histogram' }).waitFor();
    await page.waitForTimeout(500);
    await page.getByRole('heading', { name: 'Agreement' }).waitFor();
    await screenshot(page, 'dashboard');
    assert.doesNotMatch(await page.locator('dashboard-page').innerText(), /object Object|undefined|NaN/);
    await page.locator('platina-app nav a', { hasText: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByText(app.admin.username, { exact: true }).first().waitFor();
    await screenshot(page, 'admin');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'login');
    assert.deepEqual(problems.errors, []);
    await page.context().close();
  });

  test(
    "an expert's dashboard shows each bundle's progress but no verdict counts (blind voting)",
    T,
    async () => {
      const expert = await app.user('expert');
      const { page, problems } = await openAs(expert);
      await page.locator('platina-app nav a', { hasText: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Bundles' }).waitFor();
      const headers = await page.locator('dashboard-page table').first().locator('th').allInnerTexts();
      assert.deepEqual(headers, ['Bundle', 'Images', 'Labeled', 'Resolved', 'Progress']);
      await screenshot(page, 'dashboard-expert');
      assert.deepEqual(problems.errors, []);
      await page.context().close();
    },
  );

  test(
    'with model hints on, the expert form starts from the likely anomaly types and the vote records them',
    T,
    async () => {
      // An active model whose predictions name two likely types for every image (what the runner's type head writes).
      // A fresh image: the earlier tests' images have all the votes they need.
      const [fresh] = await uploadFixtures(app, 1, { prefix: 'hint', bundle: 'B3', seed: 11 });
      const db = app.server.services.db;
      const all = await db.selectFrom('images').select('id').execute();
      const version = await buildActiveModel(
        db,
        all.map((im) => ({ imageId: im.id, pAbnormal: 0.6 })),
      );
      const p: Record<string, number> = { scratches: 0.9, bubbles: 0.7 };
      const anomalies = ANOMALY_TYPES.map((t) => ({ code: t.code, p: p[t.code] ?? 0.1 }));
      await db
        .updateTable('predictions')
        .set({ anomalies: JSON.stringify(anomalies) })
        .where('model_version', '=', version)
        .execute();
      const setHint = (on: boolean) =>
        app.request('PUT', '/api/settings', { token: app.admin.token, json: { showModelHint: on } });
      assert.equal((await setHint(true)).status, 200);
      try {
        const expert = await app.user('expert');
        const lead = await app.user('lead');
        const { page, problems } = await openAs(expert);
        const name = await waitForImage(page);
        assert.equal(name, fresh.name);
        const hint = page.getByTestId('type-hint');
        await hint.waitFor();
        assert.match(
          (await hint.textContent())!,
          /likely types, pre-selected: Scratches 0\.90, Bubbles 0\.70/,
        );
        const pressed = (type: string) =>
          page.getByRole('button', { name: type, exact: true }).getAttribute('aria-pressed');
        assert.deepEqual(
          [await pressed('Scratches'), await pressed('Bubbles'), await pressed('Lines')],
          ['true', 'true', 'false'],
        );
        // The hint says what it rests on: the test model is on the untrained backbone.
        assert.match((await page.getByTestId('model-backbone').textContent())!, /untrained backbone/);
        await screenshot(page, 'label-type-hint');
        // The expert disagrees with one suggestion: their own choice is what the vote says.
        for (const k of ['a', '1', 'Enter']) await page.keyboard.press(k);
        const vote = await poll('the hinted vote', async () =>
          (await votesOf(fresh.id, lead)).find((v) => v.user.username === expert.username),
        );
        assert.equal(vote.verdict, 'abnormal');
        assert.deepEqual(vote.anomalies, ['bubbles']);
        assert.equal(vote.modelHintShown, true);
        assert.deepEqual(vote.anomalyHint, ['scratches', 'bubbles']);
        assert.deepEqual(problems.errors, []);
        await page.context().close();
      } finally {
        await setHint(false);
      }
    },
  );
});
