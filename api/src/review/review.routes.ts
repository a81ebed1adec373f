import Router from '@koa/router';
import { z } from 'zod';
import { allow } from '../http/roles.ts';
import { inputOf, validate } from '../http/validate.ts';
import { reviewQueue } from './review.service.ts';

const QueueInput = {
  query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }).strict(),
};

export const reviewRoutes = new Router({ prefix: '/api/review' }).get(
  '/queue',
  allow('lead', 'admin'),
  validate(QueueInput),
  async (ctx) => {
    ctx.body = await reviewQueue(ctx.services, inputOf(ctx, QueueInput).query.limit);
  },
);
