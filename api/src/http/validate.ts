import type { Context, Middleware } from 'koa';
import { z, type ZodType } from 'zod';
import { AppError, fromZod } from './errors.ts';

/** JSON bodies are small; images have their own streaming upload. */
const JSON_LIMIT = 1024 * 1024;

export interface InputSchemas {
  params?: ZodType;
  query?: ZodType;
  body?: ZodType;
}

type Out<S> = S extends ZodType ? z.output<S> : undefined;
export type Input<S extends InputSchemas> = {
  params: Out<S['params']>;
  query: Out<S['query']>;
  body: Out<S['body']>;
};

/**
 * Validate params, query and JSON body at the edge. The parsed, typed result is read by the
 * handler with `inputOf(ctx, schemas)`. A failure changes nothing and names the field.
 */
export function validate<S extends InputSchemas>(schemas: S): Middleware {
  return async (ctx, next) => {
    const input: Record<string, unknown> = {};
    for (const where of ['params', 'query'] as const) {
      const schema = schemas[where];
      if (!schema) continue;
      const raw = where === 'params' ? (ctx as unknown as { params: unknown }).params : ctx.query;
      const r = schema.safeParse(raw);
      if (!r.success) throw fromZod(r.error, where === 'params' ? '' : 'query');
      input[where] = r.data;
    }
    if (schemas.body) {
      const r = schemas.body.safeParse(await readJson(ctx));
      if (!r.success) throw fromZod(r.error, '');
      input.body = r.data;
    }
    ctx.state.input = input;
    await next();
  };
}

export function inputOf<S extends InputSchemas>(ctx: Context, _schemas: S): Input<S> {
  return ctx.state.input as Input<S>;
}

/** Read and parse a JSON body with a size limit: 400 when it is not JSON, 413 when too big. */
export async function readJson(ctx: Context): Promise<unknown> {
  const type = ctx.get('content-type');
  if (type && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new AppError(
      'unsupported_media',
      `expected a JSON body (Content-Type: application/json), got ${type}`,
    );
  }
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > JSON_LIMIT)
    throw new AppError('too_large', `JSON bodies are limited to ${JSON_LIMIT} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > JSON_LIMIT) throw new AppError('too_large', `JSON bodies are limited to ${JSON_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new AppError('malformed', 'the request body is empty; expected JSON');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('malformed', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Ids are opaque strings to clients; here they are positive bigints. */
export const IdParam = z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be an id');
