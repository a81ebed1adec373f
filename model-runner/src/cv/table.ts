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
