import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import type { Services } from './http/context.ts';
import { problemMiddleware } from './http/errors.ts';
import { requestLog, securityHeaders } from './http/security.ts';
import { serveClient } from './http/static.ts';
import { ROUTERS } from './routes.ts';

export const CLIENT_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../client/dist');

/** Build the Koa app without listening, so tests start it on port 0. */
export function buildApp(services: Services): Koa {
  // Behind one reverse proxy: the client address is the last X-Forwarded-For entry, the one that proxy
  // appended (maxIpsCount 1); entries a client sends itself come before it and are ignored.
  const app = new Koa({ proxy: services.config.trustProxy, maxIpsCount: 1 });
  app.context.services = services;
  app.context.log = services.logger;
  app.silent = true; // errors are logged by problemMiddleware, once, with the request id
  app.use(requestLog());
  app.use(securityHeaders());
  app.use(problemMiddleware());
  for (const router of ROUTERS) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  app.use(serveClient(CLIENT_DIST));
  return app;
}
