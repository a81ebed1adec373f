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
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { knownHashes, uploadTiff } from '../lib/import/api-upload.ts';
import {
  BundlePatternError,
  compileBundlePattern,
  singleBundle,
  type BundlePattern,
} from '../lib/import/bundle-pattern.ts';
import { watchSourceFor } from '../lib/import/watch-sources.ts';
import { FolderWatcher } from '../lib/import/watcher.ts';

export interface ImportOptions {
  folder: string;
  /** One bundle per immediate subfolder; otherwise `bundle` names the single bundle. */
  bundleFromDir: boolean;
  bundle?: string;
  url: string;
  token: string;
  concurrency?: number;
  /** Progress output (stderr in the CLI); silent when absent. */
  progress?: (p: Progress) => void;
}

export interface Progress {
  done: number;
  total: number;
  current: string;
  startedAt: number;
}

export interface ImportReport {
  imported: string[];
  /** Imported files the server flagged as far outside the method-2 bounds, with its message (issue 15). */
  flagged: { file: string; message: string }[];
  skipped: string[];
  rejected: { file: string; status: number; reason: string }[];
  failed: { file: string; reason: string }[];
}

const TIFF = /\.tiff?$/i;

class UsageError extends Error {}

/** The files to import with their bundles, sorted for a stable order. */
export async function planImport(folder: string, bundleFromDir: boolean, bundle?: string) {
  const plan: { file: string; bundle: string }[] = [];
  const walk = async (dir: string): Promise<string[]> => {
    const out: string[] = [];
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) out.push(...(await walk(p)));
      else if (e.isFile() && TIFF.test(e.name) && !e.name.startsWith('.')) out.push(p);
    }
    return out;
  };
  if (bundleFromDir) {
    const dirs = (await readdir(folder, { withFileTypes: true })).filter(
      (e) => e.isDirectory() && !e.name.startsWith('.'),
    );
    for (const d of dirs) {
      for (const file of await walk(path.join(folder, d.name))) plan.push({ file, bundle: d.name });
    }
  } else {
    if (!bundle) throw new UsageError('give --bundle-from-dir (one subfolder per bundle) or --bundle <name>');
    for (const file of await walk(folder)) plan.push({ file, bundle });
  }
  return plan.sort((a, b) => a.file.localeCompare(b.file));
}

/** Imports a folder through the API. Never throws for a single file: its problem lands in the report. */
export async function importFolder(o: ImportOptions): Promise<ImportReport> {
  const plan = await planImport(o.folder, o.bundleFromDir, o.bundle);
  const known = await knownHashes(o.url, o.token);
  const report: ImportReport = { imported: [], flagged: [], skipped: [], rejected: [], failed: [] };
  const startedAt = Date.now();
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const { file, bundle } = plan[next++];
      const rel = path.relative(o.folder, file);
      try {
        const bytes = await readFile(file);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        if (known.has(sha256)) report.skipped.push(rel);
        else {
          const r = await uploadTiff(o.url, o.token, { bundle, name: path.basename(file), bytes });
          if (r.kind === 'imported') {
            report.imported.push(rel);
            if (r.outsideBounds) report.flagged.push({ file: rel, message: r.outsideBounds });
            known.add(sha256);
          } else if (r.kind === 'duplicate')
            report.skipped.push(rel); // stored meanwhile (e.g. a duplicate in the folder)
          else if (r.kind === 'rejected')
            report.rejected.push({ file: rel, status: r.status, reason: r.reason });
          else report.failed.push({ file: rel, reason: r.reason });
        }
      } catch (err) {
        report.failed.push({ file: rel, reason: (err as Error).message });
      }
      done++;
      o.progress?.({ done, total: plan.length, current: rel, startedAt });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 2) }, worker));
  for (const list of [report.imported, report.skipped]) list.sort();
  report.rejected.sort((a, b) => a.file.localeCompare(b.file));
  report.flagged.sort((a, b) => a.file.localeCompare(b.file));
  report.failed.sort((a, b) => a.file.localeCompare(b.file));
  return report;
}

/** One line of progress: bar, count, rate, time left, current file. */
export function progressLine(p: Progress, width = 30): string {
  const frac = p.total === 0 ? 1 : p.done / p.total;
  const filled = Math.round(frac * width);
  const secs = (Date.now() - p.startedAt) / 1000;
  const rate = secs > 0 ? p.done / secs : 0;
  const eta = rate > 0 ? Math.round((p.total - p.done) / rate) : 0;
  const clock = `${Math.floor(eta / 60)}:${String(eta % 60).padStart(2, '0')}`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} ${Math.round(frac * 100)}% ${rate.toFixed(1)} img/s ETA ${clock} ${p.current}`;
}

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
      err instanceof UsageError ? `${err.message}\n${USAGE}` : `import failed: ${(err as Error).message}`,
    );
    return err instanceof UsageError ? 2 : 1;
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
