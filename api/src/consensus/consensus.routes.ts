import Router from '@koa/router';
import { z } from 'zod';
import { allow, userOf } from '../http/roles.ts';
import { IdParam, inputOf, validate } from '../http/validate.ts';
import { AnomalyList, VerdictField } from '../votes/votes.schema.ts';
import { getConsensus, resolveImage, withdrawResolution } from './consensus.service.ts';

const ImageParams = { params: z.object({ id: IdParam }) };
const ResolveInput = {
  params: z.object({ id: IdParam }),
  body: z
    .object({
      verdict: VerdictField,
      anomalies: AnomalyList,
      reason: z
        .string({ error: 'is required: say why you decide this way' })
        .trim()
        .min(1, 'is required: say why you decide this way')
        .max(2000, 'must be at most 2000 characters'),
    })
    .strict(),
};

export const consensusRoutes = new Router({ prefix: '/api/images/:id' })
  .get('/consensus', allow('expert', 'lead', 'admin', 'runner'), validate(ImageParams), async (ctx) => {
    ctx.body = await getConsensus(ctx.services, userOf(ctx), inputOf(ctx, ImageParams).params.id);
  })
  .put('/resolution', allow('lead', 'admin'), validate(ResolveInput), async (ctx) => {
    const { params, body } = inputOf(ctx, ResolveInput);
    ctx.body = await resolveImage(ctx.services, userOf(ctx), params.id, body);
  })
  .delete('/resolution', allow('lead', 'admin'), validate(ImageParams), async (ctx) => {
    ctx.body = await withdrawResolution(ctx.services, userOf(ctx), inputOf(ctx, ImageParams).params.id);
  });
