import { createReadStream } from 'node:fs';
import Router from '@koa/router';
import { allow, userOf } from '../http/roles.ts';
import { inputOf, validate } from '../http/validate.ts';
import {
  ExcludeInput,
  ImageParams,
  ListInput,
  PreviewInput,
  RestoreInput,
  UploadInput,
} from './images.schema.ts';
import { excludeImage, listExclusions, restoreImage } from './exclusions.service.ts';
import { getImage, listImages, previewImage, rawImage, uploadImage } from './images.service.ts';
import { getHeatmap } from './heatmap.service.ts';

const READERS = ['expert', 'lead', 'admin', 'runner'] as const;

export const imagesRoutes = new Router({ prefix: '/api/images' })
  .post('/', allow('admin', 'lead'), validate(UploadInput), async (ctx) => {
    const declared = ctx.get('content-length');
    const { created, image } = await uploadImage(
      ctx.services,
      userOf(ctx),
      inputOf(ctx, UploadInput).query,
      ctx.req,
      declared === '' ? null : Number(declared),
    );
    ctx.status = created ? 201 : 200;
    ctx.body = image;
  })
  .get('/', allow(...READERS), validate(ListInput), async (ctx) => {
    ctx.body = await listImages(ctx.services, userOf(ctx), inputOf(ctx, ListInput).query);
  })
  .get('/:id', allow(...READERS), validate(ImageParams), async (ctx) => {
    ctx.body = await getImage(ctx.services, userOf(ctx), inputOf(ctx, ImageParams).params.id);
  })
  // Blind like the prediction: the service answers 403 to an expert before voting unless model hints are on.
  .get('/:id/heatmap', allow(...READERS), validate(ImageParams), async (ctx) => {
    ctx.body = await getHeatmap(ctx.services, userOf(ctx), inputOf(ctx, ImageParams).params.id);
  })
  .put('/:id/exclusion', allow('lead', 'admin'), validate(ExcludeInput), async (ctx) => {
    const { params, body } = inputOf(ctx, ExcludeInput);
    ctx.body = await excludeImage(ctx.services, userOf(ctx), params.id, body.reason);
  })
  .delete('/:id/exclusion', allow('lead', 'admin'), validate(RestoreInput), async (ctx) => {
    const { params, query } = inputOf(ctx, RestoreInput);
    ctx.body = await restoreImage(ctx.services, userOf(ctx), params.id, query.reason || null);
  })
  .get('/:id/exclusions', allow('lead', 'admin'), validate(ImageParams), async (ctx) => {
    ctx.body = await listExclusions(ctx.services, inputOf(ctx, ImageParams).params.id);
  })
  .get('/:id/raw', allow(...READERS), validate(ImageParams), async (ctx) => {
    const raw = await rawImage(ctx.services, inputOf(ctx, ImageParams).params.id);
    ctx.status = 200;
    ctx.set('ETag', `"${raw.sha256}"`);
    ctx.set('Cache-Control', 'private, max-age=31536000, immutable'); // content-addressed: never changes
    if (ctx.fresh) {
      raw.body.destroy();
      ctx.status = 304;
      return;
    }
    ctx.type = 'image/tiff';
    ctx.length = raw.size;
    ctx.attachment(raw.name, { type: 'inline' });
    ctx.body = raw.body;
  })
  .get('/:id/preview', allow(...READERS), validate(PreviewInput), async (ctx) => {
    const { params, query } = inputOf(ctx, PreviewInput);
    const preview = await previewImage(ctx.services, params.id, query.method, query.width);
    ctx.status = 200;
    ctx.set('ETag', preview.etag);
    ctx.set('Cache-Control', 'private, no-cache'); // method 2 depends on the data set: revalidate
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'image/png';
    ctx.body = createReadStream(preview.path);
  });
