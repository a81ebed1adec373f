import Router from '@koa/router';
import { allow } from '../http/roles.ts';
import { datasetStats } from './dataset.service.ts';

export const datasetRoutes = new Router({ prefix: '/api/dataset' }).get(
  '/stats',
  allow.authenticated,
  async (ctx) => {
    ctx.body = await datasetStats(ctx.services);
  },
);
