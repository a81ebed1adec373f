/** What every `bench/<name>.bench.ts` returns: figures, each beside a reference from the same run. */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  reference?: { metric: string; value: number; unit: string };
  /** value / reference.value (or the inverse for "lower is better"; say which in `note`). */
  ratio?: number;
  note?: string;
}

export interface BenchReport {
  name: string;
  rows: BenchRow[];
  /** Facts a reader needs to interpret the rows (machine, sizes, database…). */
  context?: Record<string, unknown>;
}

/** Median of a sample. */
export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Quantile by linear interpolation between closest ranks. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
