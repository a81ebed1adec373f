import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { knownHashes, uploadTiff } from './api-upload.ts';

/**
 * Importing a folder of TIFFs through the HTTP API, as `npm run import` and the demo do: one home below both
 * (scripts are thin CLIs over lib/). Every file gets the validation, statistics and content-addressed storage of
 * any other upload; files already on the server (same SHA-256) are skipped without uploading.
 */

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

/** A folder plan that cannot be made from the options given (the CLI exits 2 on it). */
export class ImportUsageError extends Error {}

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
    if (!bundle)
      throw new ImportUsageError('give --bundle-from-dir (one subfolder per bundle) or --bundle <name>');
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
