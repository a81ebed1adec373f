/**
 * Fetch + decode of raw images, with a small cache of promises keyed by image id, so the page can prefetch
 * the next images of the queue and the viewer finds them decoded. The GPU upload is the viewer's part.
 */
import type { ApiClient } from '../data/api-client.ts';
import { getRawImage } from '../data/images.ts';
import type { ImageDto } from '../../../lib/api-types/images.ts';
import { TiffDecoder, type DecodedPixels } from './decoder.ts';

export interface LoadedImage {
  image: ImageDto;
  pixels: DecodedPixels;
  fetchMs: number;
  decodeMs: number;
}

export class ImageLoader {
  private readonly cache = new Map<string, Promise<LoadedImage>>();
  private readonly decoder: TiffDecoder;

  constructor(
    private readonly api: ApiClient,
    private readonly capacity = 6,
  ) {
    this.decoder = new TiffDecoder(2);
  }

  load(image: ImageDto): Promise<LoadedImage> {
    let p = this.cache.get(image.id);
    if (!p) {
      p = this.fetchAndDecode(image);
      p.catch(() => this.cache.delete(image.id));
      this.cache.set(image.id, p);
      this.trim();
    }
    return p;
  }

  /** Drops everything not named, so memory follows the queue. */
  retain(ids: Iterable<string>): void {
    const keep = new Set(ids);
    for (const id of this.cache.keys()) if (!keep.has(id)) this.cache.delete(id);
  }

  dispose(): void {
    this.cache.clear();
    this.decoder.dispose();
  }

  private async fetchAndDecode(image: ImageDto): Promise<LoadedImage> {
    const t0 = performance.now();
    const bytes = await getRawImage(this.api, image.id);
    const t1 = performance.now();
    const pixels = await this.decoder.decode(bytes);
    return { image, pixels, fetchMs: t1 - t0, decodeMs: performance.now() - t1 };
  }

  private trim(): void {
    while (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value as string);
  }
}
