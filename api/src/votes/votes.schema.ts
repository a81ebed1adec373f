import { z } from 'zod';
import { ANOMALY_CODES, ANOMALY_TYPES, type AnomalyCode } from '../../../lib/anomaly-types.ts';

export const VerdictField = z.enum(['normal', 'abnormal'], { error: 'must be "normal" or "abnormal"' });

/**
 * A list of distinct anomaly codes from the paper's 11. At most 11 entries: anything longer has a
 * duplicate or an unknown code, and is refused before we look at it.
 */
export const AnomalyList = z
  .array(
    z.enum(ANOMALY_CODES as [AnomalyCode, ...AnomalyCode[]], {
      error: `must be one of ${ANOMALY_TYPES.map((t) => t.code).join(', ')}`,
    }),
    { error: 'must be a list of anomaly codes' },
  )
  .max(ANOMALY_CODES.length, `must list each of the ${ANOMALY_CODES.length} anomaly types at most once`)
  .refine((codes) => new Set(codes).size === codes.length, 'must not list an anomaly type twice');

export const COMMENT_MAX = 2000;

export const VoteBody = z
  .object({
    verdict: VerdictField,
    anomalies: AnomalyList,
    comment: z.string().max(COMMENT_MAX, `must be at most ${COMMENT_MAX} characters`).nullish(),
    /** Whether the client showed the model's prediction before this vote (for bias analysis). */
    modelHintShown: z.boolean().optional(),
    /**
     * The anomaly types the model's hint pre-selected on the form (issue 7), absent or null when no type hint was
     * shown. Part of the model hint, so only with `modelHintShown: true`.
     */
    anomalyHint: AnomalyList.nullish(),
  })
  .strict()
  .refine((v) => v.anomalyHint == null || v.modelHintShown === true, {
    path: ['anomalyHint'],
    message: 'is part of the model hint: send it only with modelHintShown: true',
  });
