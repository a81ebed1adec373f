/** Test images for the browser tests and the client benchmark, uploaded through the real API. */
import { buildTiff, syntheticXray16 } from '../../lib/imaging/tiff-fixtures.ts';
import type { TestApp } from '../harness.ts';

/** The value of the flat square in the middle of every fixture: the pixel readout must show exactly this. */
export const MARKER_VALUE = 2345;

/**
 * A synthetic electrode-like 16-bit image (coating 1700–2800, rare bright specks) with a flat square of
 * MARKER_VALUE in the middle and a darker band, so window/level changes are visible.
 */
export function fixtureTiff(width: number, height: number, seed: number): Buffer {
  const px = syntheticXray16(width, height, seed);
  const cx = width >> 1;
  const cy = height >> 1;
  const r = Math.max(4, Math.floor(Math.min(width, height) / 10));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (Math.abs(x - cx) < r && Math.abs(y - cy) < r) px[y * width + x] = MARKER_VALUE;
      else if (y > height * 0.2 && y < height * 0.25) px[y * width + x] = 1750 + (x % 50);
    }
  }
  return Buffer.from(buildTiff({ width, height, data: px }));
}

export interface UploadedImage {
  id: string;
  name: string;
}

export async function uploadFixtures(
  app: TestApp,
  n: number,
  o: { width?: number; height?: number; bundle?: string; prefix?: string; seed?: number } = {},
): Promise<UploadedImage[]> {
  const out: UploadedImage[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${o.prefix ?? 'electrode'}-${i + 1}.tif`;
    const r = await app.request('POST', `/api/images?bundle=${o.bundle ?? 'B1'}&name=${name}`, {
      token: app.admin.token,
      body: fixtureTiff(o.width ?? 240, o.height ?? 480, (o.seed ?? 1) * 1000 + i + 1),
      headers: { 'content-type': 'image/tiff' },
    });
    if (r.status !== 201 && r.status !== 200) throw new Error(`upload ${name}: ${r.status} ${r.text}`);
    out.push({ id: String(r.body.id), name });
  }
  return out;
}
