import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchReport } from './report.ts';

/**
 * `npm run bench [-- filter]`: runs every bench/<name>.bench.ts (or those whose name contains the
 * filter), writes bench/results/<name>.json and prints one table. Each figure is printed beside
 * the reference measured in the same run, with their ratio.
 */
const dir = import.meta.dirname;
const filter = process.argv[2];
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();
fs.mkdirSync(path.join(dir, 'results'), { recursive: true });
const machine = {
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
};

let failed = false;
for (const f of files) {
  const name = f.replace(/\.bench\.ts$/, '');
  process.stdout.write(`\n## ${name}\n`);
  try {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as {
      default: () => Promise<BenchReport>;
    };
    const started = new Date().toISOString();
    const report = await mod.default();
    fs.writeFileSync(
      path.join(dir, 'results', `${name}.json`),
      JSON.stringify({ ...report, machine, started }, null, 2) + '\n',
    );
    const rows = report.rows.map((r) => ({
      metric: r.metric,
      value: `${fmt(r.value)} ${r.unit}`,
      reference: r.reference ? `${r.reference.metric}: ${fmt(r.reference.value)} ${r.reference.unit}` : '',
      ratio: r.ratio === undefined ? '' : fmt(r.ratio),
      note: r.note ?? '',
    }));
    console.table(rows);
  } catch (err) {
    failed = true;
    console.error(`bench ${name} failed:`, err);
  }
}
process.exit(failed ? 1 : 0);

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}
