import type { AnomalyCode } from '../../../lib/anomaly-types.ts';
import type { PredictionDto } from '../../../lib/api-types/models.ts';

/** The expert's form pre-selects a type when the model gives it more than this probability (issue 7). */
export const PRESELECT_ABOVE = 0.5;

/** What the labeling form starts from for one image, and what the vote then records. */
export interface TypeHint {
  /** The types pre-selected on the form, in the paper's order. */
  preselect: AnomalyCode[];
  /** The vote's `anomalyHint`: the pre-selected types when a type hint was shown, null when none was. */
  anomalyHint: AnomalyCode[] | null;
}

const NO_HINT: TypeHint = { preselect: [], anomalyHint: null };

/**
 * The type hint for an image. Votes are blind: only when the installation allows model hints (the same setting as
 * the P(abnormal) hint) and the model's prediction could be read does the form start from the likely types
 * (p > 0.5, in the order of `types`, the paper's). A prediction without types (a model version trained before
 * the type head) shows no type hint.
 */
export function typeHint(
  hintsAllowed: boolean,
  prediction: Pick<PredictionDto, 'anomalies'> | null,
  types: readonly { code: AnomalyCode }[],
): TypeHint {
  if (!hintsAllowed || !prediction || prediction.anomalies.length === 0) return NO_HINT;
  const likely = new Set(prediction.anomalies.filter((a) => a.p > PRESELECT_ABOVE).map((a) => a.code));
  const preselect = types.map((t) => t.code).filter((c) => likely.has(c));
  return { preselect, anomalyHint: preselect };
}
