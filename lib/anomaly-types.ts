/** The paper's 11 anomaly types (section 2.2), in its order; codes as in the API contract. */
export const ANOMALY_TYPES = [
  { code: 'scratches', name: 'Scratches' },
  { code: 'lines', name: 'Lines' },
  { code: 'edge_cuts', name: 'Edge cuts' },
  { code: 'edge_tensions', name: 'Edge tensions' },
  { code: 'smudges', name: 'Smudges' },
  { code: 'edge_ink_flow', name: 'Edge ink flow' },
  { code: 'bubbles', name: 'Bubbles' },
  { code: 'missing_ink', name: 'Missing ink' },
  { code: 'agglomerate', name: 'Agglomerate' },
  { code: 'ink_fluctuations', name: 'Ink fluctuations' },
  { code: 'ink_entry_exit', name: 'Ink entry/exit' },
] as const;

export type AnomalyCode = (typeof ANOMALY_TYPES)[number]['code'];

/** One entry of `GET /api/anomaly-types`. */
export interface AnomalyType {
  code: AnomalyCode;
  name: string;
}
export const ANOMALY_CODES: readonly AnomalyCode[] = ANOMALY_TYPES.map((t) => t.code);

export function isAnomalyCode(s: string): s is AnomalyCode {
  return (ANOMALY_CODES as readonly string[]).includes(s);
}
