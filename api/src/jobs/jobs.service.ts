import type { JobStatus } from '../../../lib/db/schema.ts';
import { findJob, recentJobs, type JobRow } from '../../../lib/jobs/queue.ts';
import type { Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import type { JobDto } from '../../../lib/api-types/jobs.ts';

export function toJobDto(j: JobRow): JobDto {
  const dto: JobDto = {
    id: j.id,
    kind: j.kind,
    status: j.status,
    progress: j.progress,
    message: j.message,
    createdAt: j.created_at.toISOString(),
    startedAt: j.started_at?.toISOString() ?? null,
    finishedAt: j.finished_at?.toISOString() ?? null,
    attempts: j.attempts,
    maxAttempts: j.max_attempts,
  };
  if (j.last_error) dto.error = j.last_error;
  if (j.status === 'succeeded') dto.result = j.result;
  return dto;
}

export async function getJob(services: Services, id: string): Promise<JobDto> {
  const job = await findJob(services.db, id);
  if (!job) throw new AppError('not_found', `no job with id ${id}`);
  return toJobDto(job);
}

/** Recent jobs, newest first (the dashboard). */
export async function listJobs(
  services: Services,
  q: { limit: number; kind?: string; status?: JobStatus },
): Promise<JobDto[]> {
  return (await recentJobs(services.db, q)).map(toJobDto);
}
