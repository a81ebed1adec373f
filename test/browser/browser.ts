/**
 * Helpers for the browser tests (`*.browser.test.ts`): Debian's Chromium driven by playwright-core
 * (never a downloaded browser), the client built once per change, screenshots under test-artifacts/screenshots/
 * (ignored by git: a test never modifies a tracked file).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.PLATINA_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/** Where tests save screenshots: inside test-artifacts/, which .gitignore lists. */
export const SCREENSHOTS = path.join(ARTIFACTS, 'screenshots');

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

/** Launch flags: headless, no sandbox (containers), WebGL2 through SwiftShader, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--no-first-run',
  '--no-default-browser-check',
];

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds client/dist when a source under client/ or lib/ is newer than it. Parallel test files share one
 * build through a lock directory.
 */
export async function ensureClientBuilt(): Promise<void> {
  const lock = path.join(os.tmpdir(), 'platina-client-build.lock');
  const index = path.join(ROOT, 'client/dist/index.html');
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // Stale lock (a killed run) after 2 minutes.
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) fs.rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const built = fs.statSync(index, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const sources = Math.max(newestMtime(path.join(ROOT, 'client')), newestMtime(path.join(ROOT, 'lib')));
    if (built > sources) return;
    const { build } = await import('vite');
    await build({ configFile: path.join(ROOT, 'client/vite.config.ts'), logLevel: 'warn' });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A stricter policy than the API's (no 'unsafe-inline' styles, no blob: workers): the client must run under it,
 * so a deployment can tighten its CSP without breaking the app.
 */
export const STRICT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "worker-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves every document of the context with {@link STRICT_CSP}. */
export async function enforceStrictCsp(context: BrowserContext): Promise<void> {
  await context.route('**/*', async (route) => {
    if (route.request().resourceType() !== 'document') return route.continue();
    const response = await route.fetch();
    await route.fulfill({
      response,
      headers: { ...response.headers(), 'content-security-policy': STRICT_CSP },
    });
  });
}

export interface PageProblems {
  errors: string[];
}

/** Collects page errors, failed console errors and CSP violations, so a test can assert there were none. */
export function watchProblems(page: Page): PageProblems {
  const p: PageProblems = { errors: [] };
  page.on('pageerror', (e) => p.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|status of 40[13]/.test(m.text()))
      p.errors.push(`console: ${m.text()}`);
    if (/Content Security Policy/i.test(m.text())) p.errors.push(`csp: ${m.text()}`);
  });
  return p;
}

/**
 * Saves a screenshot to test-artifacts/screenshots/ and returns its path. Never into docs/: the README's pictures
 * are made on purpose by test/browser/doc-screenshots.ts, not as a side effect of `npm test`.
 */
export async function screenshot(page: Page, name: string, o: { fullPage?: boolean } = {}): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: o.fullPage });
  return file;
}

/** The visible text under a locator's element, shadow roots included (innerText stops at them). */
export function deepText(page: Page, selector: string): Promise<string> {
  // A loop, not a named inner function: the test's transpiler would wrap one in a helper the page lacks.
  return page.locator(selector).evaluate((root) => {
    const out: string[] = [];
    const stack: Node[] = [root];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.nodeType === Node.TEXT_NODE) out.push(n.textContent ?? '');
      const kids = [
        ...(n instanceof Element && n.shadowRoot ? [n.shadowRoot] : []),
        ...Array.from(n.childNodes),
      ];
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
    }
    return out.join(' ').replace(/\s+/g, ' ');
  });
}

/** Signs in through the login form. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
