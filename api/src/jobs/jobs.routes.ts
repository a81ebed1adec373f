import Router from '@koa/router';
import { z } from 'zod';
import { JOB_KINDS } from '../../../lib/jobs/payloads.ts';
import { allow } from '../http/roles.ts';
import { IdParam, inputOf, validate } from '../http/validate.ts';
import { getJob, listJobs } from './jobs.service.ts';

const GetInput = { params: z.object({ id: IdParam }) };
const ListInput = {
  query: z
    .object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      kind: z.enum(JOB_KINDS as [string, ...string[]]).optional(),
      status: z.enum(['queued', 'running', 'succeeded', 'failed']).optional(),
    })
    .strict(),
};

// Jobs are the model runner's work: leads and admins start and watch them, the runner's account reads them.
export const jobsRoutes = new Router({ prefix: '/api/jobs' })
  .get('/', allow('lead', 'admin', 'runner'), validate(ListInput), async (ctx) => {
    ctx.body = await listJobs(ctx.services, inputOf(ctx, ListInput).query);
  })
  .get('/:id', allow('lead', 'admin', 'runner'), validate(GetInput), async (ctx) => {
    ctx.body = await getJob(ctx.services, inputOf(ctx, GetInput).params.id);
  });
