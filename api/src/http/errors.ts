import type { Middleware } from 'koa';
import { ZodError } from 'zod';

/**
 * The one error class of the API. Its code decides the HTTP status; its message is the
 * problem's `detail`, written for a user who can act on it.
 */
export type ErrorCode =
  | 'malformed'
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media'
  | 'rate_limited'
  | 'unavailable';

const STATUS: Record<ErrorCode, { status: number; title: string }> = {
  malformed: { status: 400, title: 'Malformed request' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  too_large: { status: 413, title: 'Payload too large' },
  unsupported_media: { status: 415, title: 'Unsupported media type' },
  invalid: { status: 422, title: 'Invalid input' },
  rate_limited: { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
  get status(): number {
    return STATUS[this.code].status;
  }
}

/** PostgreSQL SQLSTATEs a user can cause, mapped in this one place. */
function fromPostgres(err: { code?: string; detail?: string; constraint?: string }): AppError | null {
  switch (err.code) {
    case '23505':
      return new AppError('conflict', `already exists${err.constraint ? ` (${err.constraint})` : ''}`);
    case '23503':
      return new AppError(
        'invalid',
        `refers to something that does not exist${err.detail ? `: ${err.detail}` : ''}`,
      );
    case '23514':
    case '22P02':
    case '22003':
      return new AppError('invalid', `a value is out of range or of the wrong type`);
    case '22021': // character_not_in_repertoire (a NUL byte)
    case '22P05': // untranslatable_character (\u0000 in JSON)
      return new AppError('invalid', 'a text contains a character that cannot be stored (NUL)');
    case '40001':
    case '40P01':
      return new AppError('conflict', 'a concurrent change conflicted with this one; retry');
    case '55000':
      return new AppError('conflict', 'history is append-only and cannot be changed');
    default:
      return null;
  }
}

/** Turn a zod failure into a 422 that names the field. */
export function fromZod(err: ZodError, where: string): AppError {
  const issue = err.issues[0]!;
  const field = [where, ...issue.path.map(String)].filter(Boolean).join('.');
  return new AppError('invalid', `${field || 'body'}: ${issue.message}`, {
    errors: err.issues.map((i) => ({ field: [where, ...i.path.map(String)].join('.'), message: i.message })),
  });
}

export function toAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return fromZod(err, '');
  const e = err as { status?: number; expose?: boolean; message?: string; code?: string; type?: string };
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return fromPostgres(e as never);
  if (e?.type === 'entity.too.large' || e?.status === 413)
    return new AppError('too_large', e.message ?? 'too large');
  if (e?.status === 404) return new AppError('not_found', e.message ?? 'not found');
  return null;
}

/** The single error middleware: problem+json for known errors, logged 500 for the rest. */
export function problemMiddleware(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (
        ctx.path.startsWith('/api') &&
        (ctx.status === 404 || ctx.status === 405) &&
        !ctx.response.type.includes('json')
      ) {
        throw ctx.status === 404
          ? new AppError('not_found', `no endpoint ${ctx.method} ${ctx.path}`)
          : new AppError(
              'method_not_allowed',
              `${ctx.path} does not accept ${ctx.method}; it accepts ${ctx.response.get('Allow')}`,
            );
      }
    } catch (err) {
      const known = toAppError(err);
      if (known) {
        ctx.status = known.status;
        ctx.type = 'application/problem+json';
        ctx.body = {
          type: `https://platina.dev/problems/${known.code}`,
          title: STATUS[known.code].title,
          status: known.status,
          detail: known.message,
          ...known.extra,
        };
        if (known.code === 'unauthenticated') ctx.set('WWW-Authenticate', 'Bearer');
        // Every 429 says when to come back (RFC 9110 §10.2.3), in whole seconds, at least 1.
        if (known.code === 'rate_limited')
          ctx.set('Retry-After', String(Math.max(1, Math.ceil(Number(known.extra.retryAfter) || 1))));
        return;
      }
      ctx.log?.error({ err }, 'unhandled error');
      ctx.status = 500;
      ctx.type = 'application/problem+json';
      ctx.body = {
        type: 'https://platina.dev/problems/internal',
        title: 'Internal server error',
        status: 500,
        detail: `something went wrong on the server; request id ${ctx.state.requestId ?? '?'}`,
      };
    }
  };
}
