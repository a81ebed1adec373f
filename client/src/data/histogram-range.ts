/**
 * The x range of a histogram that shows where the data are: from the `lo` to the `hi` quantile of its mass
 * (robust: a few stray pixels at 0 or 65535 do not stretch the axis), widened by `pad` of that span on each side.
 * Bins are `[edges[k], edges[k+1])`; the quantile is taken at bin resolution (the bin's edge on the outside).
 * Null for an empty histogram.
 */
export function robustRange(
  edges: readonly number[],
  counts: readonly number[],
  { lo = 0.001, hi = 0.999, pad = 0.05 }: { lo?: number; hi?: number; pad?: number } = {},
): [number, number] | null {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return null;
  let first = -1;
  let last = -1;
  let seen = 0;
  for (let k = 0; k < counts.length; k++) {
    seen += counts[k];
    if (first < 0 && seen > lo * total) first = k;
    if (last < 0 && seen >= hi * total) last = k;
  }
  const x0 = edges[first];
  const x1 = edges[last + 1] ?? edges[last];
  const margin = (x1 - x0) * pad;
  return [Math.max(edges[0], x0 - margin), Math.min(edges[edges.length - 1], x1 + margin)];
}
