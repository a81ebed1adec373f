/**
 * Chance-corrected agreement statistics for categorical labels (verdicts, or one anomaly type's presence).
 * Pure functions over plain arrays. Every statistic whose value is undefined (no data, or only one
 * category ever used, where chance agreement is already perfect and the ratio is 0/0) returns `null`,
 * never NaN: the UI shows "—" and the API serialises null.
 */

/** Below this, 1 − chance agreement counts as zero (the ratio would be 0/0 up to rounding). */
const EPSILON = 1e-12;

/**
 * Fleiss' kappa (Fleiss 1971) for N subjects each rated by the same number n ≥ 2 of raters.
 * `table[i][j]` is how many raters put subject i in category j; every row must sum to the same n.
 *   P_i = (Σ_j n_ij² − n) / (n(n − 1)),  P̄ = mean P_i,  p_j = Σ_i n_ij / (N n),  P_e = Σ_j p_j²,
 *   κ = (P̄ − P_e) / (1 − P_e).
 * Returns null when N = 0, n < 2, or P_e = 1 (all ratings in one category).
 */
export function fleissKappa(table: readonly (readonly number[])[]): number | null {
  if (table.length === 0) return null;
  const raters = sum(table[0]);
  for (const row of table) {
    if (sum(row) !== raters)
      throw new RangeError('fleissKappa needs the same number of ratings for every subject');
  }
  if (raters < 2) return null;
  const categories = table[0].length;
  let meanP = 0;
  const totals = new Array<number>(categories).fill(0);
  for (const row of table) {
    meanP += (row.reduce((s, x) => s + x * x, 0) - raters) / (raters * (raters - 1));
    row.forEach((x, j) => (totals[j] += x));
  }
  meanP /= table.length;
  const chance = totals.reduce((s, t) => s + (t / (table.length * raters)) ** 2, 0);
  if (1 - chance < EPSILON) return null;
  return (meanP - chance) / (1 - chance);
}

export interface FleissResult {
  kappa: number | null;
  /** Subjects that entered the statistic. */
  subjects: number;
  /** The common number of ratings per subject used (0 when none qualified). */
  ratersPerSubject: number;
  /** Subjects left out because their number of ratings differs from `ratersPerSubject` (or is < 2). */
  excluded: number;
}

/**
 * Fleiss' kappa over subjects given as lists of ratings. Fleiss' kappa assumes the same number of ratings
 * per subject, and Platina's images do not always have it (adaptive overlap, later votes). We use the
 * largest group of subjects sharing one rating count ≥ 2 (ties: the higher count, which carries more
 * information) and report how many subjects were left out; Krippendorff's alpha uses all of them.
 */
export function fleissKappaOfRatings<C>(subjects: readonly (readonly C[])[]): FleissResult {
  const byCount = new Map<number, (readonly C[])[]>();
  for (const ratings of subjects) {
    if (ratings.length < 2) continue;
    const group = byCount.get(ratings.length) ?? [];
    group.push(ratings);
    byCount.set(ratings.length, group);
  }
  let best: [number, (readonly C[])[]] | null = null;
  for (const entry of byCount) {
    if (
      !best ||
      entry[1].length > best[1].length ||
      (entry[1].length === best[1].length && entry[0] > best[0])
    ) {
      best = entry;
    }
  }
  if (!best) return { kappa: null, subjects: 0, ratersPerSubject: 0, excluded: subjects.length };
  const [raters, group] = best;
  const categories = [...new Set(group.flat())];
  const table = group.map((ratings) => categories.map((c) => ratings.filter((r) => r === c).length));
  return {
    kappa: fleissKappa(table),
    subjects: group.length,
    ratersPerSubject: raters,
    excluded: subjects.length - group.length,
  };
}

/**
 * Krippendorff's alpha for nominal data (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability",
 * section C): any number of raters per unit, missing ratings simply absent. Each unit lists the values it
 * received; units with fewer than two values are not pairable and are ignored.
 *   o_ck = Σ_u (number of c–k pairs of values in u, ordered, from different raters) / (m_u − 1),
 *   n_c = Σ_k o_ck,  n = Σ_c n_c,  α = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k.
 * Returns null when fewer than two pairable values exist or only one value occurs (expected disagreement 0).
 */
export function krippendorffAlphaNominal<C>(units: readonly (readonly C[])[]): number | null {
  const coincidences = new Map<C, Map<C, number>>();
  const add = (c: C, k: C, w: number) => {
    const row = coincidences.get(c) ?? new Map<C, number>();
    row.set(k, (row.get(k) ?? 0) + w);
    coincidences.set(c, row);
  };
  for (const values of units) {
    const m = values.length;
    if (m < 2) continue;
    const counts = tally(values);
    for (const [c, nc] of counts) {
      for (const [k, nk] of counts) add(c, k, (c === k ? nc * (nc - 1) : nc * nk) / (m - 1));
    }
  }
  const marginals = new Map<C, number>();
  let n = 0;
  let observed = 0;
  for (const [c, row] of coincidences) {
    for (const [k, o] of row) {
      marginals.set(c, (marginals.get(c) ?? 0) + o);
      n += o;
      if (c !== k) observed += o;
    }
  }
  let expected = 0;
  for (const [c, nc] of marginals) for (const [k, nk] of marginals) if (c !== k) expected += nc * nk;
  if (n < 2 || expected < EPSILON) return null;
  return 1 - ((n - 1) * observed) / expected;
}

/**
 * Cohen's kappa (Cohen 1960) for two raters over the same subjects, given as pairs [rater A, rater B]:
 * κ = (p_o − p_e) / (1 − p_e) with p_e = Σ_c p_A(c) p_B(c). Null for no pairs or p_e = 1.
 */
export function cohenKappa<C>(pairs: readonly (readonly [C, C])[]): number | null {
  if (pairs.length === 0) return null;
  const observed = percentAgreement(pairs) as number;
  const a = tally(pairs.map((p) => p[0]));
  const b = tally(pairs.map((p) => p[1]));
  let chance = 0;
  for (const [c, count] of a) chance += (count / pairs.length) * ((b.get(c) ?? 0) / pairs.length);
  if (1 - chance < EPSILON) return null;
  return (observed - chance) / (1 - chance);
}

/** Share of pairs whose two labels are equal; null for no pairs. */
export function percentAgreement<C>(pairs: readonly (readonly [C, C])[]): number | null {
  if (pairs.length === 0) return null;
  return pairs.filter(([x, y]) => x === y).length / pairs.length;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

function tally<C>(values: readonly C[]): Map<C, number> {
  const counts = new Map<C, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
