/**
 * The platform's vocabulary: the unions that the HTTP contract (lib/api-types), the tables (lib/db/schema.ts), the
 * consensus rule and the client all speak. One home below all of them, so the contract never takes its types from
 * the table layout (a column can change without changing what clients see, and the other way round).
 */

export type Role = 'expert' | 'lead' | 'admin' | 'runner';
export const ROLES: readonly Role[] = ['expert', 'lead', 'admin', 'runner'];

/** An expert's, the consensus's or the lead's judgement of one image. */
export type Verdict = 'normal' | 'abnormal';

/** Where an image stands: no votes; votes but not decided; tied, waiting for the lead; decided. */
export type ImageStatus = 'unlabeled' | 'pending' | 'needs_lead' | 'resolved';

/** How a resolved image was decided. */
export type ConsensusMethod = 'unanimous' | 'majority' | 'lead';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** The paper's 16-to-8-bit conversion methods 1–4 (lib/imaging/conversions.ts defines them). */
export type { Method } from './imaging/conversions.ts';
