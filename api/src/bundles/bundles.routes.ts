import Router from '@koa/router';
import { allow, userOf } from '../http/roles.ts';
import { listBundles } from './bundles.service.ts';

export const bundlesRoutes = new Router({ prefix: '/api/bundles' }).get(
  '/',
  allow.authenticated,
  async (ctx) => {
    ctx.body = await listBundles(ctx.services, userOf(ctx));
  },
);
