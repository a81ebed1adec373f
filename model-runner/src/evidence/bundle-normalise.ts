/**
 * Label-free per-bundle normalisation of evidence vectors: bundle shift (coating method and mixture change the
 * level, the noise and the texture of every image of a bundle) is the main enemy of features that must work on
 * bundles never seen in training. Each feature is centred on its bundle's median and divided by its bundle's
 * robust spread (1.4826 × MAD), falling back to the spread over all images where a bundle's is zero (counts
 * that are mostly 0). It uses no label, only the bundle each image was uploaded in, which is known before any
 * vote, so it applies the same way to a held-out bundle in cross-validation and to a new bundle in production.
 * The raw value stays available: the vector carries both (`<name>` raw, `<name>@bundle` normalised), and the
 * head's own standardisation scales both.
 */

function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function robustSpread(values: Float64Array, centre: number): number {
  const dev = values.map((v) => Math.abs(v - centre));
  return 1.4826 * median(dev);
}

/**
 * `vectors` [images × dim] row-major → [images × 2·dim]: the raw values, then the per-bundle normalised ones.
 * Names follow the same order.
 */
export function withBundleNormalised(
  vectors: Float32Array,
  dim: number,
  bundles: readonly string[],
  names: readonly string[],
): { vectors: Float32Array; dim: number; names: string[] } {
  const n = bundles.length;
  if (vectors.length !== n * dim) throw new Error(`${vectors.length} values for ${n} images of ${dim}`);
  const out = new Float32Array(n * 2 * dim);
  const groups = new Map<string, number[]>();
  bundles.forEach((b, i) => groups.set(b, [...(groups.get(b) ?? []), i]));
  const column = (f: number, rows: readonly number[]) => Float64Array.from(rows, (i) => vectors[i * dim + f]);
  const all = Array.from({ length: n }, (_, i) => i);
  for (let f = 0; f < dim; f++) {
    const everything = column(f, all);
    const globalSpread = robustSpread(everything, median(everything));
    // Where even the global MAD is 0 (a feature that is mostly one value), the mean absolute deviation.
    const fallback =
      globalSpread > 0
        ? globalSpread
        : everything.reduce((a, v) => a + Math.abs(v - median(everything)), 0) / Math.max(1, n) || 1;
    for (const rows of groups.values()) {
      const col = column(f, rows);
      const centre = median(col);
      const spread = robustSpread(col, centre);
      const scale = spread > 1e-6 * fallback ? spread : fallback;
      for (const i of rows) {
        out[i * 2 * dim + f] = vectors[i * dim + f];
        out[i * 2 * dim + dim + f] = (vectors[i * dim + f] - centre) / scale;
      }
    }
  }
  return { vectors: out, dim: 2 * dim, names: [...names, ...names.map((x) => `${x}@bundle`)] };
}
