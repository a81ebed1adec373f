/**
 * `npm test` never modifies a tracked file: the browser tests' screenshots land in a folder git ignores, and no
 * test writes into docs/ (the README's pictures are refreshed on purpose by test/browser/doc-screenshots.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SCREENSHOTS } from './browser.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

test('screenshots go to a folder that git ignores', () => {
  const probe = path.relative(ROOT, path.join(SCREENSHOTS, 'any-page.png'));
  // `git check-ignore` exits 0 when the path is ignored and 1 when it is not (execFileSync throws then).
  assert.doesNotThrow(
    () => execFileSync('git', ['check-ignore', '-q', probe], { cwd: ROOT }),
    `${probe} is not ignored by .gitignore`,
  );
});

test('no test file writes into docs/', () => {
  const tests: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', '.git', 'dist', 'data', 'test-artifacts'].includes(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if ((e.name.endsWith('.test.ts') || e.name === 'browser.ts') && p !== import.meta.filename)
        tests.push(p);
    }
  };
  walk(ROOT);
  const offenders = tests.filter((f) => /['"`]docs\/|'docs'/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(
    offenders.map((f) => path.relative(ROOT, f)),
    [],
  );
});
