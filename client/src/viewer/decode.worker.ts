/**
 * Decodes TIFF bytes off the main thread with the same decoder the API validates uploads with
 * (`lib/imaging/tiff-decode.ts`, geotiff underneath), and counts the full-range histogram for the
 * auto window and the histogram strip. Pixels and histogram are transferred, not copied.
 */
import { decodeTiff } from '../../../lib/imaging/tiff-decode.ts';
import { fullHistogram } from '../../../lib/imaging/stats.ts';
import type { DecodeRequest, DecodeResponse } from './decoder.ts';

self.onmessage = async (ev: MessageEvent<DecodeRequest>) => {
  const { requestId, bytes } = ev.data;
  try {
    const t0 = performance.now();
    const img = await decodeTiff(bytes);
    const decodeMs = performance.now() - t0;
    const histogram = fullHistogram(img);
    let min = 0;
    while (min < histogram.length - 1 && histogram[min] === 0) min++;
    let max = histogram.length - 1;
    while (max > 0 && histogram[max] === 0) max--;
    // The GPU texture is R16UI for both depths; widening 8-bit data here keeps one shader.
    const data = img.bitDepth === 16 ? img.data : Uint16Array.from(img.data);
    const res: DecodeResponse = {
      requestId,
      ok: true,
      width: img.width,
      height: img.height,
      bitDepth: img.bitDepth,
      data,
      histogram,
      min,
      max,
      decodeMs,
    };
    (self as unknown as Worker).postMessage(res, [data.buffer, histogram.buffer]);
  } catch (err) {
    const res: DecodeResponse = {
      requestId,
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    };
    (self as unknown as Worker).postMessage(res);
  }
};
