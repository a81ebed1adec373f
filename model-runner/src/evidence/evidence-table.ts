/**
 * Evidence vectors of a list of image files for the offline tools (`npm run cv`, `npm run bench:active`): read from
 * the file cache (evidence-cache.ts, `<cacheDir>/<EVIDENCE_VERSION>/`) where present, otherwise computed in the
 * evidence worker pool and written to it. One function, so both tools read and fill the same cache the same way.
 */
import { EvidenceFileCache } from './evidence-cache.ts';
import { createEvidencePool } from './evidence-pool.ts';

export interface EvidenceTable {
  /** Names of the values (extract.ts), in vector order. */
  names: string[];
  /** One vector per image, in the order of `images`. */
  rows: Float32Array[];
  /** Images computed now (the rest came from the cache). */
  computed: number;
}

/**
 * Evidence of every image (all blocks, as extract.ts defines them); `sha256[k]` is the hash of `images[k]`'s bytes,
 * the cache key. `workers`: evidence pool size (default: the pool's own default).
 */
export async function evidenceTable(o: {
  images: readonly { path: string }[];
  sha256: readonly string[];
  cacheDir: string;
  workers?: number;
  log: (message: string) => void;
}): Promise<EvidenceTable> {
  const cache = new EvidenceFileCache(o.cacheDir);
  let names = await cache.names();
  const rows: Float32Array[] = new Array(o.images.length);
  let computed = 0;
  let pool: ReturnType<typeof createEvidencePool> | undefined;
  try {
    await Promise.all(
      o.images.map(async (img, k) => {
        const hit = names ? await cache.get(o.sha256[k], names.length) : undefined;
        if (hit) return void (rows[k] = hit);
        // Created on the first miss: a fully cached table starts no worker threads.
        pool ??= createEvidencePool({ size: o.workers });
        const ev = await pool.run('evidence', { source: { path: img.path } });
        names ??= ev.names;
        await cache.put(o.sha256[k], ev.values, ev.names);
        rows[k] = ev.values;
        computed++;
        if (computed % 100 === 0) o.log(`evidence: ${computed} images computed`);
      }),
    );
  } finally {
    await pool?.close();
  }
  if (!names) throw new Error('no images, so no evidence names');
  return { names, rows, computed };
}
