import fs from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/**
 * Serve the built client (client/dist) with an SPA fallback: any GET outside /api that is not a
 * file gets index.html. Hashed files under /assets are cached forever; index.html never.
 */
export function serveClient(root: string): Middleware {
  const rootAbs = path.resolve(root);
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api')) return next();
    let rel: string;
    try {
      rel = decodeURIComponent(ctx.path);
    } catch {
      return next();
    }
    let file = path.join(rootAbs, rel);
    // Inside the root, not merely starting with its name: `/..%2fdist-leak/x` joins to `…/dist-leak/x`,
    // which starts with `…/dist` — a prefix test without the separator served the folders beside it.
    const inside = path.relative(rootAbs, file);
    if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) return next();
    let stat = await fs.promises.stat(file).catch(() => null);
    if (!stat?.isFile()) {
      if (path.extname(rel)) return next();
      file = path.join(rootAbs, 'index.html');
      stat = await fs.promises.stat(file).catch(() => null);
      if (!stat?.isFile()) {
        ctx.status = 503;
        ctx.type = 'text/plain';
        ctx.body = 'The client is not built. Run `npm run build:client` (npm start does it for you).';
        return;
      }
    }
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    ctx.length = stat.size;
    ctx.set('Cache-Control', rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.body = fs.createReadStream(file);
  };
}
