import Router from '@koa/router';
import { z } from 'zod';
import { allow, userOf } from '../http/roles.ts';
import { inputOf, validate } from '../http/validate.ts';
import { datasetStats, pinBounds, unpinBounds } from './dataset.service.ts';

const BitDepth = z.union([z.literal(8), z.literal(16)], { error: 'must be 8 or 16' });
const Value = z.number().int('must be a whole number');

const PinInput = {
  body: z.object({ bitDepth: BitDepth, globalMin: Value, globalMax: Value }).strict(),
};
const UnpinInput = {
  params: z.object({ bitDepth: z.coerce.number().pipe(BitDepth) }),
};

export const datasetRoutes = new Router({ prefix: '/api/dataset' })
  .get('/stats', allow.authenticated, async (ctx) => {
    ctx.body = await datasetStats(ctx.services);
  })
  .put('/bounds', allow('lead', 'admin'), validate(PinInput), async (ctx) => {
    ctx.body = await pinBounds(ctx.services, userOf(ctx), inputOf(ctx, PinInput).body);
  })
  .delete('/bounds/:bitDepth', allow('lead', 'admin'), validate(UnpinInput), async (ctx) => {
    ctx.body = await unpinBounds(ctx.services, userOf(ctx), inputOf(ctx, UnpinInput).params.bitDepth);
  });
