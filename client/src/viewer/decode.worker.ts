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
    const mips = mipLevels(data, img.width, img.height);
    const res: DecodeResponse = {
      requestId,
      ok: true,
      mips,
      width: img.width,
      height: img.height,
      bitDepth: img.bitDepth,
      data,
      histogram,
      min,
      max,
      decodeMs,
    };
    (self as unknown as Worker).postMessage(res, [
      data.buffer,
      histogram.buffer,
      ...mips.map((m) => m.data.buffer),
    ]);
  } catch (err) {
    const res: DecodeResponse = {
      requestId,
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    };
    (self as unknown as Worker).postMessage(res);
  }
};

/**
 * Mip levels for zoomed-out viewing: each level is the 2×2 box average of the one above (rounded), still
 * 16-bit raw values, not display levels. Integer textures cannot be filtered by the GPU, and averaging
 * many texels per fragment in the shader costs too much on software WebGL; one `texelFetch` at the level
 * that matches the zoom gives the same anti-aliasing for the price of one read.
 */
function mipLevels(
  src: Uint16Array,
  width: number,
  height: number,
): { width: number; height: number; data: Uint16Array }[] {
  const out: { width: number; height: number; data: Uint16Array }[] = [];
  let w = width;
  let h = height;
  let cur = src;
  while (out.length < 4 && w >= 128 && h >= 128) {
    const nw = w >> 1;
    const nh = h >> 1;
    const next = new Uint16Array(nw * nh);
    for (let y = 0; y < nh; y++) {
      const r0 = 2 * y * w;
      const r1 = r0 + w;
      for (let x = 0; x < nw; x++) {
        const i = 2 * x;
        next[y * nw + x] = (cur[r0 + i] + cur[r0 + i + 1] + cur[r1 + i] + cur[r1 + i + 1] + 2) >> 2;
      }
    }
    out.push({ width: nw, height: nh, data: next });
    w = nw;
    h = nh;
    cur = next;
  }
  return out;
}
