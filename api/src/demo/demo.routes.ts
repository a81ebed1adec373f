import Router from '@koa/router';
import { z } from 'zod';
import { allow } from '../http/roles.ts';
import { inputOf, validate } from '../http/validate.ts';
import { describe, loadDemo } from './demo.service.ts';

const DemoInput = {
  body: z
    .object({
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31)
        .optional(),
    })
    .strict(),
};

/**
 * `POST /api/demo` (admin) `{seed?}`: an addition to the contract behind the admin page's
 * "Load the demo" button. Answers when the demo is loaded (about a minute), with the new
 * users' passwords.
 */
export const demoRoutes = new Router({ prefix: '/api/demo' }).post(
  '/',
  allow('admin'),
  validate(DemoInput),
  async (ctx) => {
    const { body } = inputOf(ctx, DemoInput);
    const selfUrl = `http://127.0.0.1:${ctx.req.socket.localPort}`;
    const token = ctx.get('authorization').replace(/^Bearer\s+/i, '');
    const report = await loadDemo(ctx.services, selfUrl, token, body.seed);
    ctx.body = { message: describe(report), report };
  },
);
