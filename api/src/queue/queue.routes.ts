import Router from '@koa/router';
import { z } from 'zod';
import { allow, userOf } from '../http/roles.ts';
import { IdParam, inputOf, validate } from '../http/validate.ts';
import { nextImage, queueStats } from './queue.service.ts';
import { upcomingQueue } from './upcoming.ts';

// `exclude`: ids the client already holds (current + prefetched images, votes still on their way), comma
// separated, so it can prefetch "the next images of the queue" with this one-image endpoint (client, issue 5).
const NextInput = {
  query: z.object({
    exclude: z
      .string()
      .optional()
      .transform((s) => (s ? s.split(',') : []))
      .pipe(z.array(IdParam).max(50, 'must list at most 50 ids')),
  }),
};

const UpcomingInput = {
  query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }).strict(),
};

export const queueRoutes = new Router({ prefix: '/api/queue' })
  .get('/next', allow('expert', 'lead'), validate(NextInput), async (ctx) => {
    const image = await nextImage(ctx.services, userOf(ctx), new Set(inputOf(ctx, NextInput).query.exclude));
    if (image) ctx.body = image;
    else ctx.status = 204;
  })
  .get('/stats', allow('expert', 'lead'), async (ctx) => {
    ctx.body = await queueStats(ctx.services, userOf(ctx));
  })
  // The queue's order with its reasons: a lead's view (model priorities are hints the blind rule keeps from experts).
  .get('/upcoming', allow('lead', 'admin'), validate(UpcomingInput), async (ctx) => {
    ctx.body = await upcomingQueue(ctx.services.db, inputOf(ctx, UpcomingInput).query.limit);
  });
