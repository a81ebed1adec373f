/**
 * `npm run import -- <folder> --bundle-from-dir` — import a folder tree of TIFFs into a running Platina.
 *
 * It talks to the HTTP API (not to the database): the embedded database may be open by one process only, so
 * importing while the server runs must go through it; it also gets exactly the validation, statistics and
 * content-addressed storage of any other upload, and works against a remote server.
 *
 *   npm run import -- ./electrodes --bundle-from-dir          one subfolder per bundle (files below it, recursively)
 *   npm run import -- ./batch7 --bundle batch-7               every TIFF in the folder into one bundle
 *
 *   npm run import -- --watch ./incoming --bundle-pattern '{bundle}/**'    new TIFFs as they arrive, until stopped
 *   npm run import -- --watch s3://plant/xray --bundle-pattern '{bundle}/*.tif'   the same for a bucket prefix
 *
 * Watching (lib/import/watcher.ts): a file is uploaded once complete (unchanged for --settle-ms and two
 * listings), each outcome is journaled (--state, default .platina-import.jsonl in the folder) so a restart
 * resumes without sending anything twice, and rejects are printed with their reason.
 *
 * Options: --url (default http://localhost:$PORT or 8080), --user (default admin) with the password in
 * PLATINA_PASSWORD (or PLATINA_ADMIN_PASSWORD), or --token / PLATINA_TOKEN; --concurrency N (default 2).
 * Files already on the server (same SHA-256) are skipped without uploading; rejected files are listed with the
 * server's reason. A progress bar goes to stderr; the summary to stdout. Exit code 0 when nothing was
 * rejected or failed, 1 otherwise, 2 for usage errors.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ImportUsageError, importFolder, progressLine } from '../lib/import/folder.ts';
import {
  BundlePatternError,
  compileBundlePattern,
  singleBundle,
  type BundlePattern,
} from '../lib/import/bundle-pattern.ts';
import { watchSourceFor } from '../lib/import/watch-sources.ts';
import { FolderWatcher } from '../lib/import/watcher.ts';

/** Options the CLI cannot run with (exit 2); the folder plan throws its own ImportUsageError, handled alike. */
class UsageError extends ImportUsageError {}

function parseArgs(argv: string[]) {
  const opts: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--bundle-from-dir' || a === '--help' || a === '-h') opts[a.replace(/^-+/, '')] = true;
    else if (
      [
        '--bundle',
        '--url',
        '--user',
        '--token',
        '--concurrency',
        '--watch',
        '--bundle-pattern',
        '--state',
        '--poll-ms',
        '--settle-ms',
      ].includes(a)
    ) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      opts[a.slice(2)] = v;
    } else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  return { opts, positional };
}

const USAGE = `usage: npm run import -- <folder> (--bundle-from-dir | --bundle <name>)
         [--url http://localhost:8080] [--user admin] [--token T] [--concurrency 2]
       npm run import -- --watch <folder | s3://bucket/prefix>
         (--bundle-pattern '{bundle}/**' | --bundle-from-dir | --bundle <name>)
         [--state FILE] [--poll-ms 1000] [--settle-ms 2000] [--url …] [--user …] [--token …] [--concurrency 2]
password: PLATINA_PASSWORD (or PLATINA_ADMIN_PASSWORD); or a token in --token / PLATINA_TOKEN`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { opts, positional } = parsed;
  if (opts.help || opts.h) {
    console.log(USAGE);
    return 0;
  }
  const watching = typeof opts.watch === 'string';
  if (positional.length !== (watching ? 0 : 1)) {
    console.error(
      `${watching ? 'give the folder as --watch <folder>' : 'give exactly one folder'}\n${USAGE}`,
    );
    return 2;
  }
  if (
    opts['bundle-from-dir'] !== true &&
    typeof opts.bundle !== 'string' &&
    !(watching && typeof opts['bundle-pattern'] === 'string')
  ) {
    console.error(
      `give --bundle-from-dir (one subfolder per bundle)${watching ? ', --bundle-pattern <pattern>' : ''} or --bundle <name>\n${USAGE}`,
    );
    return 2;
  }
  const url = String(opts.url ?? `http://localhost:${process.env.PORT ?? 8080}`).replace(/\/$/, '');
  const concurrency = Number(opts.concurrency ?? 2);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
    console.error('--concurrency must be an integer from 1 to 16');
    return 2;
  }
  let token = (opts.token as string | undefined) ?? process.env.PLATINA_TOKEN;
  const username = String(opts.user ?? 'admin');
  const password = process.env.PLATINA_PASSWORD ?? process.env.PLATINA_ADMIN_PASSWORD;
  const signIn = async () => {
    if (!password)
      throw new UsageError(`set PLATINA_PASSWORD to the password of ${username}, or give --token`);
    const res = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const body = (await res.json().catch(() => null)) as { token?: string; detail?: string } | null;
    if (res.status !== 200 || !body?.token)
      throw new Error(`login as ${username} failed: ${res.status} ${body?.detail ?? ''}`);
    return body.token;
  };
  try {
    token ||= await signIn();
    if (watching) return await watch(opts, url, token, concurrency, password ? signIn : null);
    const tty = process.stderr.isTTY;
    let lastPrinted = -1;
    const report = await importFolder({
      folder: positional[0],
      bundleFromDir: opts['bundle-from-dir'] === true,
      bundle: opts.bundle as string | undefined,
      url,
      token,
      concurrency,
      progress: (p) => {
        if (tty)
          process.stderr.write(
            `\r\x1b[K${progressLine(p, 30).slice(0, (process.stderr.columns ?? 120) - 1)}`,
          );
        else if (p.done === p.total || Math.floor((p.done / p.total) * 20) > lastPrinted) {
          lastPrinted = Math.floor((p.done / p.total) * 20);
          process.stderr.write(`${progressLine(p, 20)}\n`);
        }
      },
    });
    if (tty) process.stderr.write('\n');
    console.log(
      `imported ${report.imported.length}, skipped ${report.skipped.length} (already there), ` +
        `rejected ${report.rejected.length}, failed ${report.failed.length}`,
    );
    for (const f of report.flagged) console.log(`flagged ${f.file}: ${f.message}`);
    for (const r of report.rejected) console.log(`rejected ${r.file} (${r.status}): ${r.reason}`);
    for (const f of report.failed) console.log(`failed ${f.file}: ${f.reason}`);
    return report.rejected.length + report.failed.length === 0 ? 0 : 1;
  } catch (err) {
    console.error(
      err instanceof ImportUsageError
        ? `${err.message}\n${USAGE}`
        : `import failed: ${(err as Error).message}`,
    );
    return err instanceof ImportUsageError ? 2 : 1;
  }
}

/**
 * `--watch`: runs until SIGINT/SIGTERM, one line per file on stdout (rejects with the reason). Signs in again
 * when the token expires (with a password; a fixed --token cannot be renewed).
 */
async function watch(
  opts: Record<string, string | boolean>,
  url: string,
  token: string,
  concurrency: number,
  signIn: (() => Promise<string>) | null,
): Promise<number> {
  const ms = (name: string, def: number) => {
    const v = Number(opts[name] ?? def);
    if (!Number.isInteger(v) || v < 0 || v > 3_600_000)
      throw new UsageError(`--${name} must be a number of milliseconds from 0 to 3600000`);
    return v;
  };
  let pattern: BundlePattern;
  try {
    pattern =
      typeof opts['bundle-pattern'] === 'string'
        ? compileBundlePattern(opts['bundle-pattern'])
        : opts['bundle-from-dir'] === true
          ? compileBundlePattern('{bundle}/**')
          : singleBundle(String(opts.bundle));
  } catch (err) {
    if (err instanceof BundlePatternError) throw new UsageError(err.message);
    throw err;
  }
  const { source, defaultState } = watchSourceFor(String(opts.watch), process.env);
  const pollMs = ms('poll-ms', 1000);
  const settleMs = ms('settle-ms', 2000);
  let renewing = false;
  const watcher: FolderWatcher = new FolderWatcher({
    source,
    pattern,
    url,
    token,
    statePath: typeof opts.state === 'string' ? path.resolve(opts.state) : defaultState,
    pollMs,
    settleMs,
    concurrency,
    onEvent: (e) => {
      const why = e.reason ? `: ${e.reason}` : '';
      console.log(`${e.kind} ${e.rel}${e.bundle ? ` (bundle ${e.bundle})` : ''}${why}`);
      if (e.kind === 'failed' && /^HTTP 401/.test(e.reason ?? '') && signIn && !renewing) {
        renewing = true;
        signIn()
          .then((t) => watcher.setToken(t))
          .catch((err: Error) => console.error(`signing in again failed: ${err.message}`))
          .finally(() => (renewing = false));
      }
    },
    onError: (err) => console.error(`listing ${source.description} failed (retrying): ${err.message}`),
  });
  await watcher.prepare(); // a wrong token or an unreachable server stops the start with its reason
  console.error(
    `watching ${source.description} (bundle ${pattern.source}; every ${pollMs} ms; complete after ${settleMs} ms unchanged)`,
  );
  watcher.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await watcher.stop();
  source.close();
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
