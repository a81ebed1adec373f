import Router from '@koa/router';
import { ANOMALY_TYPES } from '../../../lib/anomaly-types.ts';
import { allow } from '../http/roles.ts';

// The list is part of the code (lib/anomaly-types.ts), shared with the client and the runner.
export const anomalyTypesRoutes = new Router({ prefix: '/api/anomaly-types' }).get(
  '/',
  allow.authenticated,
  async (ctx) => {
    ctx.body = ANOMALY_TYPES;
  },
);
