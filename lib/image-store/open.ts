import { apiImageSource } from './api-source.ts';
import type { ImageSourceReader, ImageStore, ImageStoreSpec, StoreSpec } from './image-store.ts';
import { localImageStore } from './local-store.ts';
import { s3ImageStore } from './s3-store.ts';

/** The store a parsed PLATINA_IMAGE_STORE names (an API URL is only a source: see openImageSource). */
export function openImageStore(spec: StoreSpec): ImageStore {
  return spec.kind === 'local' ? localImageStore(spec.dir) : s3ImageStore(spec);
}

/** Where a model runner reads image bytes: the store itself, or an API instance in front of it. */
export function openImageSource(spec: ImageStoreSpec): ImageSourceReader & { close(): void } {
  if (spec.kind === 'api') return { ...apiImageSource(spec), close() {} };
  return openImageStore(spec);
}
