import Router from '@koa/router';
import { z } from 'zod';
import { allow, userOf } from '../http/roles.ts';
import { inputOf, validate } from '../http/validate.ts';
import { getSettings, updateSettings } from './settings.service.ts';

const Count = (max: number) => z.number().int('must be a whole number').min(1, 'must be at least 1').max(max);

const UpdateInput = {
  body: z
    .object({
      votesRequired: Count(25).optional(),
      votesMax: Count(25).optional(),
      showModelHint: z.boolean().optional(),
      retrainEvery: Count(100_000).optional(),
    })
    .strict()
    .refine(
      (b) => Object.keys(b).length > 0,
      'give at least one of votesRequired, votesMax, showModelHint, retrainEvery',
    ),
};

// Everyone signed in reads the settings (the client needs showModelHint and votesRequired); admins change them.
export const settingsRoutes = new Router({ prefix: '/api/settings' })
  .get('/', allow.authenticated, async (ctx) => {
    ctx.body = await getSettings(ctx.services.db);
  })
  .put('/', allow('admin'), validate(UpdateInput), async (ctx) => {
    ctx.body = await updateSettings(ctx.services, userOf(ctx).id, inputOf(ctx, UpdateInput).body);
  });
