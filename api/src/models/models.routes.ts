import Router from '@koa/router';
import { z } from 'zod';
import { allow, userOf } from '../http/roles.ts';
import { IdParam, inputOf, validate } from '../http/validate.ts';
import { exportOnnx, forceActivation, getPrediction, listModels, startTraining } from './models.service.ts';

const Method = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)], {
  error: 'must be 1, 2, 3 or 4',
});
const TrainInput = {
  body: z.object({ method: Method.optional(), crossValidate: z.boolean().optional() }).strict(),
};
const VersionInput = { params: z.object({ version: IdParam }) };
const ActivateInput = {
  params: z.object({ version: IdParam }),
  body: z.object({ reason: z.string().trim().min(1, 'say why').max(500) }).strict(),
};
const ImageInput = { params: z.object({ id: IdParam }) };

export const modelsRoutes = new Router({ prefix: '/api/models' })
  // Everyone signed in sees the versions: the client must say "untrained backbone" wherever results show.
  .get('/', allow.authenticated, async (ctx) => {
    ctx.body = await listModels(ctx.services);
  })
  .post('/train', allow('lead', 'admin'), validate(TrainInput), async (ctx) => {
    ctx.status = 202;
    ctx.body = await startTraining(ctx.services, userOf(ctx), inputOf(ctx, TrainInput).body);
  })
  .post('/:version/activate', allow('lead', 'admin'), validate(ActivateInput), async (ctx) => {
    const { params, body } = inputOf(ctx, ActivateInput);
    ctx.status = 202;
    ctx.body = await forceActivation(ctx.services, userOf(ctx), params.version, body.reason);
  })
  .get('/:version/onnx', allow('lead', 'admin', 'runner'), validate(VersionInput), async (ctx) => {
    const { bytes, filename } = await exportOnnx(ctx.services, inputOf(ctx, VersionInput).params.version);
    ctx.type = 'application/octet-stream';
    ctx.set('Content-Disposition', `attachment; filename="${filename}"`);
    ctx.body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  });

/** `GET /api/images/:id/prediction` lives with the models (the path is under images). */
export const predictionRoutes = new Router({ prefix: '/api/images' }).get(
  '/:id/prediction',
  allow.authenticated,
  validate(ImageInput),
  async (ctx) => {
    ctx.body = await getPrediction(ctx.services, userOf(ctx), inputOf(ctx, ImageInput).params.id);
  },
);
