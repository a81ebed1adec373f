import Router from '@koa/router';
import { allow, userOf } from '../http/roles.ts';
import { nextImage } from './queue.service.ts';

export const queueRoutes = new Router({ prefix: '/api/queue' }).get(
  '/next',
  allow('expert', 'lead'),
  async (ctx) => {
    const image = await nextImage(ctx.services, userOf(ctx));
    if (image) ctx.body = image;
    else ctx.status = 204;
  },
);
