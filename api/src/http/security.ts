import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/**
 * Security headers for the API and the client it serves. Scripts only from our origin; styles
 * also inline because Lit and uPlot set style properties; blob: workers for the TIFF decoder.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    await next();
  };
}

/** A request id (taken from X-Request-Id when sane) on every log line and response. */
export function requestLog(): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const requestId = /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    ctx.log = ctx.services.logger.child({ reqId: requestId });
    const start = performance.now();
    try {
      await next();
    } finally {
      ctx.log.info(
        { method: ctx.method, url: ctx.url, status: ctx.status, ms: Math.round(performance.now() - start) },
        'request',
      );
    }
  };
}
