import Router from '@koa/router';
import { z } from 'zod';
import { allow, userOf } from '../http/roles.ts';
import { IdParam, inputOf, validate } from '../http/validate.ts';
import { markReference, references, setReferenceRate, unmarkReference } from './references.service.ts';

const ImageParams = { params: z.object({ id: IdParam }) };
// At most half of an expert's queue: references measure the experts, they do not label anything new.
const RateInput = { body: z.object({ rate: z.number().min(0).max(0.5) }).strict() };

export const referencesRoutes = new Router({ prefix: '/api' })
  .get('/references', allow('lead', 'admin'), async (ctx) => {
    ctx.body = await references(ctx.services);
  })
  .put('/references/rate', allow('lead', 'admin'), validate(RateInput), async (ctx) => {
    ctx.body = await setReferenceRate(ctx.services, userOf(ctx), inputOf(ctx, RateInput).body.rate);
  })
  .put('/images/:id/reference', allow('lead', 'admin'), validate(ImageParams), async (ctx) => {
    ctx.body = await markReference(ctx.services, userOf(ctx), inputOf(ctx, ImageParams).params.id);
  })
  .delete('/images/:id/reference', allow('lead', 'admin'), validate(ImageParams), async (ctx) => {
    await unmarkReference(ctx.services, userOf(ctx), inputOf(ctx, ImageParams).params.id);
    ctx.status = 204;
  });
