import Router from '@koa/router';
import { z } from 'zod';
import { allow } from '../http/roles.ts';
import { inputOf, validate } from '../http/validate.ts';
import { agreement } from './metrics.service.ts';

const AgreementInput = { query: z.object({ bundle: z.string().min(1).max(200).optional() }).strict() };

export const metricsRoutes = new Router({ prefix: '/api/metrics' }).get(
  '/agreement',
  allow('lead', 'admin'),
  validate(AgreementInput),
  async (ctx) => {
    ctx.body = await agreement(ctx.services, inputOf(ctx, AgreementInput).query.bundle);
  },
);
