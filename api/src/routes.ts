import type Router from '@koa/router';
import { anomalyTypesRoutes } from './anomaly-types/anomaly-types.routes.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { healthRoutes } from './health/health.routes.ts';
import { usersRoutes } from './users/users.routes.ts';
import { settingsRoutes } from './settings/settings.routes.ts';
import { votesRoutes } from './votes/votes.routes.ts';
import { consensusRoutes } from './consensus/consensus.routes.ts';
import { queueRoutes } from './queue/queue.routes.ts';

/**
 * Every router of the API. A resource adds its router here; the role × endpoint matrix test
 * walks this list, so a route that forgets `allow(...)` fails that test.
 */
export const ROUTERS: Router[] = [
  healthRoutes,
  authRoutes,
  usersRoutes,
  anomalyTypesRoutes,
  settingsRoutes,
  votesRoutes,
  consensusRoutes,
  queueRoutes,
];
