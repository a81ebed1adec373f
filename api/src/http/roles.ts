import type { Middleware } from 'koa';
import type { Role } from '../../../lib/db/schema.ts';
import { AppError } from './errors.ts';
import { authenticate } from '../auth/auth.service.ts';

/** The roles a route admits, readable by the role × endpoint matrix test. */
export type Access = readonly Role[] | 'public' | 'authenticated';
export type AllowMiddleware = Middleware & { access: Access };

/**
 * The one declarative place where a route states who may call it:
 * `allow('lead', 'admin')`, `allow.authenticated`, or `allow.public`.
 * 401 without a valid token; 403 with a valid token of another role.
 */
export function allow(...roles: Role[]): AllowMiddleware {
  return make(roles);
}
allow.public = make('public');
allow.authenticated = make('authenticated');

function make(access: Access): AllowMiddleware {
  const mw: Middleware = async (ctx, next) => {
    if (access !== 'public') {
      const user = await authenticate(ctx.services, ctx.get('authorization'));
      ctx.state.user = user;
      if (access !== 'authenticated' && !access.includes(user.role)) {
        throw new AppError('forbidden', `this needs the role ${access.join(' or ')}; you are ${user.role}`);
      }
    }
    await next();
  };
  return Object.assign(mw, { access });
}

/** The authenticated user of a route guarded by `allow(...)`. */
export function userOf(ctx: { state: { user?: import('./context.ts').AuthUser } }) {
  const user = ctx.state.user;
  if (!user) throw new AppError('unauthenticated', 'sign in first');
  return user;
}
