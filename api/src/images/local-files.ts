import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../http/errors.ts';

/**
 * What an API instance keeps on its own disk under PLATINA_DATA_DIR, whatever the image store
 * (lib/image-store: the originals, in images/ or in a bucket):
 *
 *   previews/<sha256>/<key>.png          rendered previews (a cache per instance: deleting it is always safe)
 *   tmp/                                 uploads being received and hashed before the store takes them
 *
 * An upload is streamed into tmp/ while being hashed, then put into the image store inside the transaction that
 * inserts its row: the row commits only after the store has the bytes, and a failed transaction removes them
 * again (see images.service.ts).
 */
export interface LocalFiles {
  previewPath(sha256: string, key: string): string;
  tmpDir: string;
}

export function localFiles(dataDir: string): LocalFiles {
  return {
    previewPath: (sha256, key) => path.join(dataDir, 'previews', sha256, `${key}.png`),
    tmpDir: path.join(dataDir, 'tmp'),
  };
}

export interface ReceivedUpload {
  path: string;
  sha256: string;
  size: number;
}

/** A fresh, unique path in the store's tmp/ directory (created on demand). */
export async function tempPath(store: LocalFiles, prefix: string): Promise<string> {
  await mkdir(store.tmpDir, { recursive: true });
  return path.join(store.tmpDir, `${prefix}-${process.pid}-${randomBytes(8).toString('hex')}`);
}

function tooLarge(maxBytes: number): AppError {
  return new AppError(
    'too_large',
    `the upload is larger than the limit of ${Math.round(maxBytes / 1048576)} MB (PLATINA_MAX_UPLOAD_MB)`,
  );
}

/**
 * How much beyond the limit an over-limit body may run and still be read and discarded before answering 413.
 * Answering while the client is still sending makes most clients report a connection reset instead of the
 * answer; beyond this much we prefer to cut the connection than to keep reading. It counts from the limit, not
 * from zero: a 70 MB file against the 64 MB default is drained whole (counting from zero cut it at 64 MB and the
 * browser saw a reset instead of the promised 413).
 */
const DRAIN_LIMIT = 64 * 1024 * 1024;
const WRITE_BATCH = 1024 * 1024;

/**
 * Streams a request body to a temporary file while hashing it (SHA-256) and enforcing `maxBytes`.
 * Over the limit → 413 (the rest of the body is discarded, see DRAIN_LIMIT). Any failure removes the file.
 */
export async function receiveUpload(
  store: LocalFiles,
  body: Readable,
  maxBytes: number,
  declaredLength: number | null,
): Promise<ReceivedUpload> {
  if (declaredLength !== null && declaredLength > maxBytes) {
    if (declaredLength <= maxBytes + DRAIN_LIMIT) await drain(body, declaredLength);
    throw tooLarge(maxBytes);
  }
  const file = await tempPath(store, 'upload');
  const handle = await open(file, 'wx');
  const hash = createHash('sha256');
  let size = 0;
  // Socket chunks are ~64 KiB; writing each one costs a thread-pool round trip. Batch them to ~1 MiB.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const batch = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await handle.write(batch);
  };
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > maxBytes) {
        await drain(body, DRAIN_LIMIT); // maxBytes are read already
        throw tooLarge(maxBytes);
      }
      hash.update(buf);
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes >= WRITE_BATCH) await flush();
    }
    await flush();
    await handle.sync(); // durable before the store takes it (a local store renames it into place)
    return { path: file, sha256: hash.digest('hex'), size };
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(file, { force: true });
    if (err instanceof AppError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as Error).message === 'aborted') {
      // The client went away mid-body: a client error, not a server fault (nobody will read the answer).
      throw new AppError('malformed', 'the upload was interrupted before the body was complete');
    }
    throw err;
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Reads and discards the rest of `body`; more than `limit` bytes of it and the connection is cut instead. */
async function drain(body: Readable, limit: number): Promise<void> {
  let discarded = 0;
  try {
    for await (const chunk of body) {
      discarded += (chunk as Buffer).length;
      if (discarded > limit) {
        body.destroy();
        return;
      }
    }
  } catch {
    // The client went away: nothing to answer.
  }
}

export async function fileSize(p: string): Promise<number | null> {
  try {
    return (await stat(p)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Removes cached previews of an image whose file name starts with `prefix` except `keep`. */
export async function removeStalePreviews(store: LocalFiles, sha256: string, prefix: string, keep: string) {
  const dir = path.dirname(store.previewPath(sha256, 'x'));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((n) => n.startsWith(prefix) && n !== `${keep}.png` && n.endsWith('.png'))
      .map((n) => rm(path.join(dir, n), { force: true })),
  );
}
