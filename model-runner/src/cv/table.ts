import { ANOMALY_TYPES } from '../../../lib/anomaly-types.ts';
import type { AnomalyCrossValidation } from './average-precision.ts';
import type { CrossValidation } from './metrics.ts';

/** Balanced accuracy as the paper prints it: a percentage with two decimals, "—" when undefined. */
export const percent = (value: number | null): string => (value === null ? '—' : (value * 100).toFixed(2));

/**
 * The paper's Table 1 layout: one row per test bundle and an overall row (pooled counts), one column per
 * conversion method, balanced accuracy in %. Undefined cells ("—") are explained under the table.
 */
export function formatTable1(
  results: readonly { method: number; crossValidation: CrossValidation }[],
): string {
  const bundles = results[0]?.crossValidation.perBundle.map((b) => b.bundle) ?? [];
  const label = Math.max(7, ...bundles.map((b) => b.length));
  const col = 10;
  const lines = [
    ['Bundle'.padEnd(label), ...results.map((r) => `Method ${r.method}`.padStart(col))].join(' '),
  ];
  const notes = new Map<string, string>();
  for (const bundle of bundles) {
    const cells = results.map((r) => {
      const s = r.crossValidation.perBundle.find((b) => b.bundle === bundle);
      if (s?.note) notes.set(bundle, s.note);
      return percent(s?.balancedAccuracy ?? null).padStart(col);
    });
    lines.push([bundle.padEnd(label), ...cells].join(' '));
  }
  lines.push(
    [
      'Overall'.padEnd(label),
      ...results.map((r) => percent(r.crossValidation.overall.balancedAccuracy).padStart(col)),
    ].join(' '),
  );
  for (const [bundle, note] of notes) lines.push(`— bundle ${bundle}: ${note}`);
  return lines.join('\n');
}

/**
 * Beside Table 1: pooled average precision per anomaly type (rows, the paper's order) and conversion method
 * (columns), in %. `Positives` counts the type's held-out images, `Share` is their fraction (what an uninformed
 * ranking scores on a random split) and `Prior only` the pooled AP of knowing nothing but each fold's training share,
 * which leave-one-bundle-out pushes below `Share` (average-precision.ts): the number a method must beat. Types
 * under the minimum of positives show "—", explained under the table; `Mean` averages the types with a number.
 * Methods without type scores are left out; no such method → an empty string.
 */
export function formatAnomalyTable(
  results: readonly { method: number; crossValidation: { anomalies?: AnomalyCrossValidation } }[],
): string {
  const scored = results.filter((r) => r.crossValidation.anomalies);
  if (scored.length === 0) return '';
  const first = scored[0].crossValidation.anomalies!;
  const label = Math.max(4, ...ANOMALY_TYPES.map((t) => t.name.length));
  const col = 10;
  const row = (name: string, cells: string[]) =>
    [name.padEnd(label), ...cells.map((c) => c.padStart(col))].join(' ');
  const mean = (values: (number | null)[]) => {
    const numbers = values.filter((v): v is number => v !== null);
    return numbers.length ? numbers.reduce((a, b) => a + b, 0) / numbers.length : null;
  };
  const lines = [
    row('Type', ['Positives', 'Share', 'Prior only', ...scored.map((r) => `Method ${r.method}`)]),
  ];
  const notes: string[] = [];
  first.perType.forEach((type, t) => {
    const name = ANOMALY_TYPES.find((a) => a.code === type.code)?.name ?? type.code;
    if (type.note) notes.push(`— ${name}: ${type.note}`);
    lines.push(
      row(name, [
        String(type.positives),
        percent(type.images > 0 ? type.positives / type.images : null),
        percent(type.priorOnlyAveragePrecision),
        ...scored.map((r) => percent(r.crossValidation.anomalies!.perType[t].averagePrecision)),
      ]),
    );
  });
  const withAp = first.perType.filter((t) => t.averagePrecision !== null);
  lines.push(
    row('Mean', [
      '',
      percent(mean(withAp.map((t) => t.positives / t.images))),
      percent(mean(withAp.map((t) => t.priorOnlyAveragePrecision))),
      ...scored.map((r) =>
        percent(mean(r.crossValidation.anomalies!.perType.map((t) => t.averagePrecision))),
      ),
    ]),
  );
  if (withAp.length < first.perType.length) notes.push(`Mean: over the ${withAp.length} types with a number`);
  return [...lines, ...notes].join('\n');
}
