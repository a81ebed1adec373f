import { createImagingPool, type ImagingPool } from '../../../lib/imaging/imaging-pool.ts';
import { defaultPoolSize } from '../../../lib/imaging/worker-pool.ts';

/**
 * The API's imaging workers, in two lanes (issue 14: one hostile upload used to stall every valid upload and
 * every preview behind it):
 * - `uploadPool()` decodes uploads — untrusted bytes — with 2 workers;
 * - `imagingPool()` renders previews of stored images, which passed that decode once, with its own workers.
 * So no preview ever waits behind an upload. Among uploads, a hostile file is found by `decodeTiff`'s layout
 * checks in milliseconds, and one that slips past them costs no more than a valid file of its size, bounded by
 * the per-task budget (`imaging-pool.ts`: 20 s, 256 MB heap, the worker replaced); with two workers, a valid
 * upload waits behind a hostile one only when two such files arrive ahead of it at once.
 * One pool per lane and process, started on first use; idle workers do not keep the process alive, so
 * shutdown needs no extra step, but `closeImagingPool()` ends them at once.
 */
let pool: ImagingPool | null = null;
let uploads: ImagingPool | null = null;

export const UPLOAD_WORKERS = 2;

export function imagingPool(): ImagingPool {
  pool ??= createImagingPool({ size: Math.max(1, defaultPoolSize() - 1) });
  return pool;
}

export function uploadPool(): ImagingPool {
  uploads ??= createImagingPool({ size: UPLOAD_WORKERS });
  return uploads;
}

export async function closeImagingPool(): Promise<void> {
  const p = [pool, uploads];
  pool = uploads = null;
  await Promise.all(p.map((x) => x?.close()));
}

/**
 * Runs `fn` with no other holder of the same key in this process. Uploads of identical bytes serialise on
 * their SHA-256, so that one of them failing can never delete the file the other just published.
 */
const held = new Map<string, Promise<unknown>>();
export async function withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  for (let prev = held.get(key); prev; prev = held.get(key)) await prev.catch(() => {});
  const run = fn();
  held.set(key, run);
  try {
    return await run;
  } finally {
    if (held.get(key) === run) held.delete(key);
  }
}
