/**
 * The imaging work that runs in the worker pool (see `imaging-pool.ts`). Plain functions: they also run
 * in-thread (tests, scripts). Sources are a file path (read inside the worker: nothing crosses the thread
 * boundary but the path) or bytes.
 */
import { readFile } from 'node:fs/promises';
import type { Conversion } from './conversions.ts';
import { encodePng } from './png.ts';
import type { ModelInput, Size } from './resize.ts';
import { convertAndResize, previewSize, toModelInput } from './resize.ts';
import type { PixelStats } from './stats.ts';
import { computeStats } from './stats.ts';
import type { DecodedTiff } from './tiff-decode.ts';
import { decodeTiff } from './tiff-decode.ts';

export type ImageSource = { path: string } | { bytes: Uint8Array };

/** What the upload path stores about an image. */
export interface ImageInfo {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  invertedMinIsWhite: boolean;
  stats: PixelStats;
}

async function load(source: ImageSource): Promise<DecodedTiff> {
  const bytes = 'path' in source ? await readFile(source.path) : source.bytes;
  return decodeTiff(bytes);
}

/** Decode, validate and compute statistics. Throws InvalidImageError for unusable files. */
export async function inspect(input: { source: ImageSource }): Promise<ImageInfo> {
  const image = await load(input.source);
  return {
    width: image.width,
    height: image.height,
    bitDepth: image.bitDepth,
    invertedMinIsWhite: image.invertedMinIsWhite,
    stats: computeStats(image),
  };
}

/** Decode only (pixels are transferred back, not copied). */
export async function decode(input: { source: ImageSource }): Promise<DecodedTiff> {
  return load(input.source);
}

/**
 * A PNG preview `width` pixels wide (aspect ratio kept; never wider than the image), made with a conversion.
 * `width` defaults to the image's own width.
 */
export async function preview(input: {
  source: ImageSource;
  conversion: Conversion;
  width?: number;
}): Promise<Uint8Array> {
  const image = await load(input.source);
  const width = Math.min(input.width ?? image.width, image.width);
  const planes = convertAndResize(image, input.conversion, previewSize(image, width));
  return encodePng(planes, { level: 6 });
}

/** The classifier's input tensor (3 × H × W, ImageNet-normalised), default size the paper's 1000 × 2000. */
export async function modelInput(input: {
  source: ImageSource;
  conversion: Conversion;
  size?: Size;
}): Promise<ModelInput> {
  const image = await load(input.source);
  return toModelInput(image, input.conversion, input.size);
}

export const imagingTasks = { inspect, decode, preview, modelInput };
export type ImagingTasks = typeof imagingTasks;
