import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { postgresAvailable, TEST_PG_URL } from './databases.ts';

/**
 * `npm test`: every *.test.ts in the project.
 * - unit tests run once;
 * - integration tests (files that use test/harness.ts or test/databases.ts) run twice: on the
 *   embedded PGlite and on a real PostgreSQL server (skipped loudly when none answers);
 * - browser tests (*.browser.test.ts) run once, on PostgreSQL when it answers.
 * `npm test -- <substring>` runs only matching files.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', '.git', 'data', 'dist', '.gpu', 'test-artifacts']);

function findTests(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findTests(p, out);
    else if (e.name.endsWith('.test.ts')) out.push(path.relative(ROOT, p));
  }
  return out.sort();
}

const filter = process.argv[2];
const all = findTests(ROOT).filter((f) => !filter || f.includes(filter));
const usesDb = (f: string) =>
  /test\/(harness|databases)\.ts['"]/.test(fs.readFileSync(path.join(ROOT, f), 'utf8'));
const browser = all.filter((f) => f.endsWith('.browser.test.ts'));
const integration = all.filter((f) => !browser.includes(f) && usesDb(f));
const unit = all.filter((f) => !browser.includes(f) && !integration.includes(f));

const totals = { passed: 0, failed: 0, skipped: 0 };

function run(label: string, files: string[], env: Record<string, string>): Promise<boolean> {
  if (files.length === 0) return Promise.resolve(true);
  console.log(`\n=== ${label}: ${files.length} file(s) ===`);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
      { cwd: ROOT, stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, ...env } },
    );
    // Pass the output through and add up the runner's closing counts for one summary line.
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code) => {
      for (const key of ['pass', 'fail', 'skipped'] as const) {
        const m = new RegExp(`^ℹ ${key} (\\d+)$`, 'm').exec(tail);
        const n = m ? Number(m[1]) : 0;
        if (key === 'pass') totals.passed += n;
        else if (key === 'fail') totals.failed += n;
        else totals.skipped += n;
      }
      if (code !== 0 && !/^ℹ fail [1-9]/m.test(tail)) totals.failed += 1; // crashed before reporting
      resolve(code === 0);
    });
  });
}

const results: [string, boolean][] = [];
results.push(['unit', await run('unit tests', unit, {})]);
results.push([
  'integration (embedded PGlite)',
  await run('integration tests on embedded PGlite', integration, { PLATINA_TEST_DB: 'pglite' }),
]);
const pg = await postgresAvailable();
if (pg) {
  results.push([
    'integration (PostgreSQL)',
    await run('integration tests on PostgreSQL', integration, { PLATINA_TEST_DB: 'postgres' }),
  ]);
} else if (integration.length) {
  console.log(
    `\n${'!'.repeat(78)}\n!!! NO POSTGRESQL ANSWERS AT ${TEST_PG_URL}: the PostgreSQL run of the integration\n!!! tests is SKIPPED. Start a server (or set PLATINA_TEST_PG_URL) to run it.\n${'!'.repeat(78)}`,
  );
}
results.push([
  'browser',
  await run('browser tests', browser, { PLATINA_TEST_DB: pg ? 'postgres' : 'pglite' }),
]);

console.log('\n=== summary ===');
for (const [label, ok] of results) console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
