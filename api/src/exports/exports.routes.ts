import Router from '@koa/router';
import { allow } from '../http/roles.ts';
import { exclusionsCsv, labelsCsv, labelsJson, votesCsv } from './exports.service.ts';

const attachment = (name: string) => `attachment; filename="${name}"`;

export const exportsRoutes = new Router({ prefix: '/api/exports' })
  .get('/labels.csv', allow('lead', 'admin'), async (ctx) => {
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', attachment('labels.csv'));
    ctx.body = await labelsCsv(ctx.services);
  })
  .get('/labels.json', allow('lead', 'admin'), async (ctx) => {
    ctx.type = 'application/json; charset=utf-8';
    ctx.set('Content-Disposition', attachment('labels.json'));
    ctx.body = await labelsJson(ctx.services);
  })
  .get('/votes.csv', allow('lead', 'admin'), async (ctx) => {
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', attachment('votes.csv'));
    ctx.body = votesCsv(ctx.services);
  })
  .get('/exclusions.csv', allow('lead', 'admin'), async (ctx) => {
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', attachment('exclusions.csv'));
    ctx.body = exclusionsCsv(ctx.services);
  });
