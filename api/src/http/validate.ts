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
      const prefix = where === 'params' ? '' : 'query';
      refuseBadText(raw, prefix);
      const r = schema.safeParse(raw);
      if (!r.success) throw fromZod(r.error, prefix);
      input[where] = r.data;
    }
    if (schemas.body) {
      const raw = await readJson(ctx);
      refuseBadText(raw, '');
      const r = schemas.body.safeParse(raw);
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

/** Refuses bytes that are not UTF-8 instead of replacing them with U+FFFD: what is stored is what was sent. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Every string of every input (params, query, JSON body: values and keys, at any depth) is text that
 * PostgreSQL can store and that means what it says, checked here once for every route rather than per
 * field: no NUL (PostgreSQL's text cannot hold it; one in a vote's comment used to fail the statement of
 * a whole batch of other experts' votes with 500), and no lone UTF-16 surrogate (JSON can carry one as
 * `\ud800`; UTF-8 cannot, so it would be stored silently changed to U+FFFD). 422 naming the field, like
 * any other invalid value; nothing is changed. Iterative, so a deeply nested body cannot exhaust the stack.
 */
export function refuseBadText(value: unknown, where: string): void {
  const stack: [unknown, string][] = [[value, where]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem)
        throw new AppError('invalid', `${at || 'body'}: ${problem}`, {
          errors: [{ field: at, message: problem }],
        });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, at ? `${at}.${i}` : String(i)]));
    } else if (v !== null && typeof v === 'object') {
      for (const [key, item] of Object.entries(v)) {
        const field = at ? `${at}.${key}` : key;
        const problem = textProblem(key);
        if (problem)
          throw new AppError('invalid', `${at || 'body'}: a field name ${problem}`, {
            errors: [{ field: at, message: `a field name ${problem}` }],
          });
        stack.push([item, field]);
      }
    }
  }
}

function textProblem(s: string): string | null {
  if (NUL.test(s)) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode text (it has a lone UTF-16 surrogate)';
  return null;
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
  let text: string;
  try {
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw new AppError('malformed', 'the request body is not valid UTF-8');
  }
  if (text.trim() === '') throw new AppError('malformed', 'the request body is empty; expected JSON');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('malformed', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Ids are opaque strings to clients; here they are positive bigints. */
export const IdParam = z.string().regex(/^[1-9][0-9]{0,17}$/, 'must be an id');
