import type Router from '@koa/router';
import { anomalyTypesRoutes } from './anomaly-types/anomaly-types.routes.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { healthRoutes } from './health/health.routes.ts';
import { usersRoutes } from './users/users.routes.ts';
import { settingsRoutes } from './settings/settings.routes.ts';
import { votesRoutes } from './votes/votes.routes.ts';
import { consensusRoutes } from './consensus/consensus.routes.ts';
import { queueRoutes } from './queue/queue.routes.ts';
import { jobsRoutes } from './jobs/jobs.routes.ts';
import { modelsRoutes, predictionRoutes } from './models/models.routes.ts';
import { reviewRoutes } from './review/review.routes.ts';
import { metricsRoutes } from './metrics/metrics.routes.ts';
import { exportsRoutes } from './exports/exports.routes.ts';
import { imagesRoutes } from './images/images.routes.ts';
import { bundlesRoutes } from './bundles/bundles.routes.ts';
import { datasetRoutes } from './dataset/dataset.routes.ts';
import { demoRoutes } from './demo/demo.routes.ts';
import { referencesRoutes } from './references/references.routes.ts';

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
  jobsRoutes,
  modelsRoutes,
  predictionRoutes,
  reviewRoutes,
  metricsRoutes,
  exportsRoutes,
  imagesRoutes,
  bundlesRoutes,
  datasetRoutes,
  demoRoutes,
  referencesRoutes,
];
