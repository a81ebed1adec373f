import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseImageStoreSpec, type S3Settings } from '../image-store/image-store.ts';
import { s3Client } from '../image-store/s3-store.ts';

/** A file the watcher sees: its path below the watched root (forward slashes), size and a version stamp. */
export interface WatchedEntry {
  rel: string;
  size: number;
  /** Changes whenever the content may have: size and mtime on disk, the ETag in a bucket. */
  version: string;
  /** When it was last written (ms since the epoch): a file is complete once it has rested long enough. */
  modifiedMs: number;
}

/**
 * Where new TIFFs arrive: a folder tree, or a prefix in an S3-compatible bucket. `atomic` says whether an entry
 * can be seen before it is complete: a file on disk can (the station is still writing it), an object in a
 * bucket cannot (it is listed only once its PUT has finished).
 */
export interface WatchSource {
  description: string;
  atomic: boolean;
  list(): Promise<WatchedEntry[]>;
  read(rel: string): Promise<Uint8Array>;
  close(): void;
}

export const TIFF_NAME = /\.tiff?$/i;

/** A folder tree; hidden files and folders (a writer's `.part` files, our own state) are not looked at. */
export function folderSource(root: string): WatchSource {
  return {
    description: root,
    atomic: false,
    async list() {
      const out: WatchedEntry[] = [];
      const walk = async (dir: string) => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed while we walked
          throw err;
        }
        for (const e of entries) {
          if (e.name.startsWith('.')) continue;
          const p = path.join(dir, e.name);
          if (e.isDirectory()) await walk(p);
          else if (e.isFile() && TIFF_NAME.test(e.name)) {
            const s = await stat(p).catch(() => null);
            if (!s) continue;
            out.push({
              rel: path.relative(root, p).split(path.sep).join('/'),
              size: s.size,
              version: `${s.size}:${s.mtimeMs}`,
              modifiedMs: s.mtimeMs,
            });
          }
        }
      };
      await walk(root);
      return out;
    },
    read: (rel) => readFile(path.join(root, rel)),
    close() {},
  };
}

/** The objects under `prefix` in `bucket` (the standard AWS variables say where and how). */
export function bucketSource(bucket: string, prefix: string, settings: S3Settings): WatchSource {
  const connected = s3Client(settings);
  const start = prefix ? `${prefix}/` : '';
  return {
    description: `s3://${bucket}/${prefix}`,
    atomic: true,
    async list() {
      const { client, sdk } = await connected;
      const out: WatchedEntry[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: start, ContinuationToken: token }),
        );
        for (const c of page.Contents ?? []) {
          const rel = c.Key!.slice(start.length);
          if (!TIFF_NAME.test(rel) || rel.split('/').some((part) => part.startsWith('.'))) continue;
          out.push({
            rel,
            size: Number(c.Size),
            version: `${c.Size}:${c.ETag}`,
            modifiedMs: c.LastModified?.getTime() ?? 0,
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async read(rel) {
      const { client, sdk } = await connected;
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: start + rel }));
      return r.Body!.transformToByteArray();
    },
    close() {
      void connected.then(({ client }) => client.destroy());
    },
  };
}

/**
 * The source `--watch` names: `s3://bucket/prefix` (the standard AWS variables say where the server is) or a
 * folder. Its default journal: inside the folder (hidden), or in the working directory for a bucket.
 */
export function watchSourceFor(
  target: string,
  env: NodeJS.ProcessEnv,
): { source: WatchSource; defaultState: string } {
  if (target.startsWith('s3://')) {
    const spec = parseImageStoreSpec({ ...env, PLATINA_IMAGE_STORE: target }, '', 'api');
    if (spec.kind !== 's3') throw new Error('unreachable');
    const name = `${spec.bucket}${spec.prefix ? `-${spec.prefix}` : ''}`.replace(/[^A-Za-z0-9.-]+/g, '-');
    return {
      source: bucketSource(spec.bucket, spec.prefix, spec.s3),
      defaultState: path.resolve(`.platina-import-${name}.jsonl`),
    };
  }
  const root = path.resolve(target);
  return { source: folderSource(root), defaultState: path.join(root, '.platina-import.jsonl') };
}
