/**
 * Imaging throughput (issue 2, "Benchmark"):
 *  (a) decode + statistics of 2000×1000 16-bit TIFFs, in images/s, against a plain `fs.readFile` of the same
 *      bytes (the floor: nothing can inspect a file faster than it can read it);
 *  (a') the same through the API: `POST /api/images` over HTTP (streamed to disk with SHA-256 and fsync, decoded
 *      and measured in the worker pool, stored in one transaction on the embedded database), 2 uploads in flight;
 *  (b) conversion method 2 + resize of a 1150×2070 image to the paper's 1000×2000, in ms/image, against a
 *      straightforward per-pixel loop (the formula per pixel, then a direct area average per output pixel),
 *      and against a plain copy of the source pixels (the memory floor).
 * Each figure is the median over several rounds, measured in this run beside its reference.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromArrayBuffer } from 'geotiff';
import { stretch, stretchBounds } from '../lib/imaging/conversions.ts';
import type { GrayImage } from '../lib/imaging/gray-image.ts';
import { createImagingPool } from '../lib/imaging/imaging-pool.ts';
import { convertAndResize, type Size } from '../lib/imaging/resize.ts';
import { computeStats } from '../lib/imaging/stats.ts';
import { decodeTiff } from '../lib/imaging/tiff-decode.ts';
import { buildTiff, syntheticXray16 } from '../lib/imaging/tiff-fixtures.ts';
import { startTestApp } from '../test/harness.ts';
import { median, type BenchReport, type BenchRow } from './report.ts';

const IMAGES = 12;
const ROUNDS = 3;

async function timeRounds(rounds: number, fn: () => Promise<void> | void): Promise<number[]> {
  const ms: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return ms;
}

/** The reference for (b): the formula evaluated per source pixel, then each output pixel averaged directly. */
function perPixelReference(image: GrayImage, lo: number, hi: number, size: Size): Uint8Array {
  const { width: sw, height: sh } = image;
  const converted = new Float64Array(sw * sh);
  for (let i = 0; i < converted.length; i++) converted[i] = stretch(image.data[i], lo, hi);
  const out = new Uint8Array(size.width * size.height);
  const sx = sw / size.width;
  const sy = sh / size.height;
  for (let j = 0; j < size.height; j++) {
    for (let i = 0; i < size.width; i++) {
      let sum = 0;
      for (let y = Math.floor(j * sy); y < Math.min(sh, Math.ceil((j + 1) * sy)); y++) {
        const wy = Math.min((j + 1) * sy, y + 1) - Math.max(j * sy, y);
        for (let x = Math.floor(i * sx); x < Math.min(sw, Math.ceil((i + 1) * sx)); x++) {
          const wx = Math.min((i + 1) * sx, x + 1) - Math.max(i * sx, x);
          sum += wx * wy * converted[y * sw + x];
        }
      }
      out[j * size.width + i] = Math.round(sum / (sx * sy));
    }
  }
  return out;
}

export default async function run(): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'platina-bench-imaging-'));
  try {
    // (a) decode + statistics ---------------------------------------------------------------------------
    const W = 1000;
    const H = 2000;
    const paths: string[] = [];
    for (let k = 0; k < IMAGES; k++) {
      const path = join(dir, `img-${k}.tif`);
      await writeFile(
        path,
        new Uint8Array(
          buildTiff({ width: W, height: H, data: syntheticXray16(W, H, k + 1), rowsPerStrip: 32 }),
        ),
      );
      paths.push(path);
    }
    const readAll = async () => {
      for (const p of paths) await readFile(p);
    };
    const inspectAll = async () => {
      for (const p of paths) computeStats(await decodeTiff(await readFile(p)));
    };
    const geotiffAll = async () => {
      for (const p of paths) {
        const b = await readFile(p);
        const tiff = await fromArrayBuffer(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
        await (await tiff.getImage()).readRasters({ interleave: true });
      }
    };
    await readAll();
    await inspectAll(); // warm-up (JIT, page cache)
    const readMs = median(await timeRounds(ROUNDS, readAll));
    const inspectMs = median(await timeRounds(ROUNDS, inspectAll));
    const geotiffMs = median(await timeRounds(ROUNDS, geotiffAll));
    const pool = createImagingPool();
    let poolMs: number;
    try {
      const inspectInPool = async () => {
        await Promise.all(paths.map((path) => pool.run('inspect', { source: { path } })));
      };
      await inspectInPool(); // starts the workers
      poolMs = median(await timeRounds(ROUNDS, inspectInPool));
    } finally {
      await pool.close();
    }
    const perSecond = (ms: number) => (IMAGES * 1000) / ms;
    const readRef = { metric: 'fs.readFile of the same files', value: perSecond(readMs), unit: 'images/s' };
    rows.push({
      metric: 'decode + statistics, 2000×1000 16-bit TIFF (in-thread)',
      value: perSecond(inspectMs),
      unit: 'images/s',
      reference: readRef,
      ratio: perSecond(inspectMs) / readRef.value,
      note: 'fraction of plain-read throughput (higher is better, 1 = as fast as reading the bytes)',
    });
    rows.push({
      metric: `decode + statistics in the worker pool (${pool.size} worker${pool.size === 1 ? '' : 's'})`,
      value: perSecond(poolMs),
      unit: 'images/s',
      reference: readRef,
      ratio: perSecond(poolMs) / readRef.value,
      note: 'same work off the event loop; workers read the file themselves',
    });
    rows.push({
      metric: "geotiff readRasters alone (the decoder's generic path, no statistics)",
      value: perSecond(geotiffMs),
      unit: 'images/s',
      reference: readRef,
      ratio: perSecond(geotiffMs) / readRef.value,
      note: 'why uncompressed strips take the typed-array fast path',
    });

    // (a') upload + decode + statistics over HTTP ---------------------------------------------------------
    const app = await startTestApp({ PLATINA_MAX_UPLOAD_MB: '64' });
    try {
      const files = await Promise.all(paths.map((p) => readFile(p)));
      // Every round uploads new content (one pixel changed per round), else the API answers "already stored".
      const variant = (b: Buffer, round: number) => {
        const copy = Buffer.from(b);
        copy[copy.length - 1] ^= round;
        return copy;
      };
      const uploadAll = async (bodies: Buffer[]) => {
        let next = 0;
        const lane = async () => {
          while (next < bodies.length) {
            const k = next++;
            const r = await app.request('POST', `/api/images?bundle=bench&name=img-${k}.tif`, {
              token: app.admin.token,
              body: bodies[k],
              headers: { 'content-type': 'image/tiff' },
            });
            if (r.status !== 201) throw new Error(`upload answered ${r.status}: ${r.text}`);
          }
        };
        await Promise.all([lane(), lane()]);
      };
      await uploadAll([variant(files[0], 255)]); // warm-up: starts the worker pool
      const httpMs: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const bodies = files.map((b) => variant(b, round));
        const t = performance.now();
        await uploadAll(bodies);
        httpMs.push(performance.now() - t);
      }
      const http = perSecond(median(httpMs));
      rows.push({
        metric: 'upload + decode + statistics over HTTP (POST /api/images, 2 in flight, embedded database)',
        value: http,
        unit: 'images/s',
        reference: readRef,
        ratio: http / readRef.value,
        note: 'fraction of plain-read throughput; includes SHA-256, temp file + fsync, worker decode, one transaction',
      });
    } finally {
      await app.close();
    }

    // (b) method 2 + resize -----------------------------------------------------------------------------
    const src: GrayImage = { width: 1150, height: 2070, bitDepth: 16, data: syntheticXray16(1150, 2070, 99) };
    const global = stretchBounds(1700, 28000);
    const size = { width: 1000, height: 2000 };
    const fused = () => void convertAndResize(src, { method: 2, global }, size);
    fused();
    const fusedMs = median(await timeRounds(5, fused));
    let reference: Uint8Array = new Uint8Array(0);
    const refMs = median(
      await timeRounds(ROUNDS, () => void (reference = perPixelReference(src, global.lo, global.hi, size))),
    );
    const fast = convertAndResize(src, { method: 2, global }, size).planes[0];
    let maxDiff = 0;
    for (let i = 0; i < fast.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fast[i] - reference[i]));
    const copyMs = median(await timeRounds(9, () => void src.data.slice()));
    rows.push({
      metric: 'method 2 + resize 1150×2070 → 1000×2000 (fused)',
      value: fusedMs,
      unit: 'ms/image',
      reference: { metric: 'per-pixel loop reference', value: refMs, unit: 'ms/image' },
      ratio: refMs / fusedMs,
      note: `speed-up over the reference (higher is better); largest difference to it: ${maxDiff} level(s)`,
    });
    rows.push({
      metric: 'method 2 + resize (fused), against copying the source',
      value: fusedMs,
      unit: 'ms/image',
      reference: {
        metric: 'copy of the 1150×2070 16-bit source (memory floor)',
        value: copyMs,
        unit: 'ms/image',
      },
      ratio: fusedMs / copyMs,
      note: 'times slower than one memory copy of the input (lower is better)',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    name: 'imaging',
    rows,
    context: { images: IMAGES, rounds: ROUNDS, tiff: '2000×1000 16-bit, uncompressed, 32 rows/strip' },
  };
}
