import Router from '@koa/router';
import { sql } from 'kysely';
import { allow } from '../http/roles.ts';
import { AppError } from '../http/errors.ts';
import { VERSION } from '../version.ts';

export const healthRoutes = new Router({ prefix: '/api/health' }).get('/', allow.public, async (ctx) => {
  try {
    await sql`select 1`.execute(ctx.services.db);
  } catch {
    throw new AppError('unavailable', 'the database does not answer');
  }
  ctx.body = { status: 'ok', database: ctx.services.dbKind, version: VERSION };
});
