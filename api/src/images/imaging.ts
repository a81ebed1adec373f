import { createImagingPool, type ImagingPool } from '../../../lib/imaging/imaging-pool.ts';

/**
 * The API's imaging worker pool (decode, statistics, previews run off the event loop). One per process,
 * started on first use; its idle workers do not keep the process alive, so shutdown needs no extra step,
 * but `closeImagingPool()` ends them at once.
 */
let pool: ImagingPool | null = null;

export function imagingPool(): ImagingPool {
  pool ??= createImagingPool();
  return pool;
}

export async function closeImagingPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.close();
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
