/** Background jobs (`/api/jobs`). */
import type { JobStatus } from '../domain.ts';

export type { JobStatus };

/** The contract's job object (docs/api.md), plus attempts and the handler's result once succeeded. */
export interface JobDto {
  id: string;
  kind: string;
  status: JobStatus;
  progress: number;
  message: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The last failure (also while a retry is pending). */
  error?: string;
  attempts: number;
  maxAttempts: number;
  result?: unknown;
}
