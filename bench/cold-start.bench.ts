import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEvidencePool } from '../model-runner/src/evidence/evidence-pool.ts';
import { EVIDENCE_VERSION, EVIDENCE_BLOCKS, selectBlocks } from '../model-runner/src/evidence/extract.ts';
import { unusualness } from '../model-runner/src/evidence/unusualness.ts';
import type { BenchReport, BenchRow } from './report.ts';

/**
 * Cold start (issue 13, "Measure"): with ZERO labels, the queue orders fresh images by unusualness
 * (model-runner/src/evidence/unusualness.ts, fit on all images). Share of abnormal images among the first 10 % of
 * that order, against the base rate (target ≥ 2×). The truth comes from the synthetic set's manifest and is read
 * by nothing but this evaluation; nothing here is tuned to the generator.
 *
 * Data: COLD_START_DATA=DIR (a `npm run synth` output), else a fresh `npm run synth -- --scale small` (seed 0)
 * in a temporary folder. COLD_START_SCALE=full generates the full set instead.
 */
export default async function coldStart(): Promise<BenchReport> {
  let dir = process.env.COLD_START_DATA;
  let temp: string | null = null;
  const scale = process.env.COLD_START_SCALE ?? 'small';
  if (!dir) {
    temp = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-cold-start-'));
    dir = temp;
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, '../scripts/synth.ts'),
        '--out',
        dir,
        '--scale',
        scale,
      ],
      { stdio: 'ignore' },
    );
  }
  const manifest = fs
    .readFileSync(path.join(dir, 'manifest.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [file, bundle, verdict] = line.split(',');
      return { file: file!, bundle: bundle!, abnormal: verdict === 'abnormal' };
    });
  const pool = createEvidencePool();
  const started = performance.now();
  const evidence = await Promise.all(
    manifest.map((m) => pool.run('evidence', { source: { path: path.join(dir!, m.file) } })),
  );
  const evidenceSeconds = (performance.now() - started) / 1000;
  await pool.close();
  const names = evidence[0]!.names;
  const dim = names.length;
  const n = manifest.length;
  const bundles = manifest.map((m) => m.bundle);
  const baseRate = manifest.filter((m) => m.abnormal).length / n;
  const k = Math.max(1, Math.round(n * 0.1));

  /** Abnormal share among the k highest scores, with the evidence restricted to `columns`. */
  const topShare = (columns: number[]) => {
    const table = new Float32Array(n * columns.length);
    evidence.forEach((e, i) => columns.forEach((c, j) => (table[i * columns.length + j] = e.values[c]!)));
    const t0 = performance.now();
    const r = unusualness({ vectors: table, dim: columns.length, bundles, fit: manifest.map(() => true) });
    const fitSeconds = (performance.now() - t0) / 1000;
    const order = [...r.scores.keys()].sort((a, b) => r.scores[b]! - r.scores[a]! || a - b);
    const hits = order.slice(0, k).filter((i) => manifest[i]!.abnormal).length;
    return { share: hits / k, hits, shrinkage: r.shrinkage, fitSeconds };
  };

  const all = topShare(names.map((_, i) => i));
  const rows: BenchRow[] = [
    {
      metric: `abnormal share in the first 10 % by unusualness (${all.hits} of ${k})`,
      value: 100 * all.share,
      unit: '%',
      reference: { metric: 'base rate', value: 100 * baseRate, unit: '%' },
      ratio: all.share / baseRate,
      note: 'higher is better; target ratio ≥ 2',
    },
  ];
  // Ablation: one evidence block at a time (same model, same order rule).
  for (const block of EVIDENCE_BLOCKS) {
    const cols = selectBlocks(names, [block]);
    if (cols.length === 0) continue;
    const r = topShare(cols);
    rows.push({
      metric: `${block} block only (${cols.length} values; ${r.hits} of ${k})`,
      value: 100 * r.share,
      unit: '%',
      reference: { metric: 'base rate', value: 100 * baseRate, unit: '%' },
      ratio: r.share / baseRate,
    });
  }
  if (temp) fs.rmSync(temp, { recursive: true, force: true });
  return {
    name: 'cold-start',
    rows,
    context: {
      data: process.env.COLD_START_DATA ?? `npm run synth -- --scale ${scale} (seed 0)`,
      images: n,
      abnormal: manifest.filter((m) => m.abnormal).length,
      bundles: new Set(bundles).size,
      firstTenPercent: k,
      evidenceVersion: EVIDENCE_VERSION,
      evidenceValues: dim,
      evidenceSeconds: Math.round(evidenceSeconds * 10) / 10,
      shrinkage: all.shrinkage,
      fitSeconds: Math.round(all.fitSeconds * 1000) / 1000,
      fitOn: 'all images, no labels (trimmed 10 %)',
    },
  };
}
