import Router from '@koa/router';
import { z } from 'zod';
import { allow, userOf } from '../http/roles.ts';
import { IdParam, inputOf, validate } from '../http/validate.ts';
import { VoteBody } from './votes.schema.ts';
import { castVote, listVotes, voteHistory } from './votes.service.ts';

const ImageParams = { params: z.object({ id: IdParam }) };
const VoteInput = { params: z.object({ id: IdParam }), body: VoteBody };

export const votesRoutes = new Router({ prefix: '/api/images/:id/votes' })
  .put('/me', allow('expert', 'lead'), validate(VoteInput), async (ctx) => {
    const { params, body } = inputOf(ctx, VoteInput);
    ctx.body = await castVote(ctx.services, userOf(ctx), params.id, body);
  })
  .get('/', allow('expert', 'lead', 'admin'), validate(ImageParams), async (ctx) => {
    ctx.body = await listVotes(ctx.services, userOf(ctx), inputOf(ctx, ImageParams).params.id);
  })
  .get('/history', allow('lead', 'admin'), validate(ImageParams), async (ctx) => {
    ctx.body = await voteHistory(ctx.services, inputOf(ctx, ImageParams).params.id);
  });
