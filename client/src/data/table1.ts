import type { ModelDto } from '../../../lib/api-types/models.ts';

/**
 * The paper's Table 1 layout: one row per held-out bundle plus the pooled overall row, one column per
 * conversion method; each cell from the newest model version of that method with a cross-validation.
 */
export function table1(models: ModelDto[]) {
  const byMethod = new Map<number, ModelDto>();
  for (const m of [...models].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))) {
    if (m.crossValidation) byMethod.set(m.method, m);
  }
  const methods = [1, 2, 3, 4].filter((m) => byMethod.has(m));
  const bundles = [
    ...new Set(methods.flatMap((m) => byMethod.get(m)!.crossValidation!.perBundle.map((b) => b.bundle))),
  ].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const cell = (method: number, bundle: string) =>
    byMethod.get(method)!.crossValidation!.perBundle.find((b) => b.bundle === bundle) ?? null;
  /** The anomaly-type head's pooled score of one type, from the same model version as the column. */
  const typeScore = (method: number, code: string) =>
    byMethod.get(method)!.crossValidation!.anomalies?.perType.find((t) => t.code === code) ?? null;
  /** Methods whose column's model version has an anomaly-type head (older versions do not). */
  const typeMethods = methods.filter((m) => byMethod.get(m)!.crossValidation!.anomalies);
  return {
    methods,
    bundles,
    cell,
    overall: (m: number) => byMethod.get(m)!.crossValidation!.overall,
    typeMethods,
    typeScore,
  };
}
