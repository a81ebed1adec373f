import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ImageSource } from '../imaging/tasks.ts';
import { ImageMissingError, SHA256_HEX, type ImageStore } from './image-store.ts';

function missing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * The image store as a directory of files named by their SHA-256 (`PLATINA_DATA_DIR/images/<sha256>`, the layout
 * Platina always had). A put renames a file into place, so a reader never sees half an image; a temporary file
 * on another file system is copied beside its target first (`.incoming-*`, never listed).
 */
export function localImageStore(dir: string): ImageStore {
  const file = (sha256: string) => path.join(dir, sha256);
  const incoming = () => path.join(dir, `.incoming-${process.pid}-${randomBytes(8).toString('hex')}`);

  async function size(sha256: string): Promise<number | null> {
    try {
      return (await stat(file(sha256))).size;
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  return {
    description: dir,
    async put(sha256: string, source: ImageSource) {
      await mkdir(dir, { recursive: true });
      if ('path' in source) {
        try {
          await rename(source.path, file(sha256));
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        }
        const tmp = incoming();
        try {
          await copyFile(source.path, tmp);
          const h = await open(tmp, 'r+');
          await h.sync().finally(() => h.close());
          await rename(tmp, file(sha256));
        } finally {
          await rm(tmp, { force: true });
        }
        return;
      }
      const tmp = incoming();
      try {
        const h = await open(tmp, 'wx');
        try {
          await h.writeFile(source.bytes);
          await h.sync(); // durable before it is published by rename
        } finally {
          await h.close();
        }
        await rename(tmp, file(sha256));
      } finally {
        await rm(tmp, { force: true });
      }
    },
    async get(sha256) {
      try {
        return await readFile(file(sha256));
      } catch (err) {
        if (missing(err)) return null;
        throw err;
      }
    },
    async stream(sha256) {
      const n = await size(sha256);
      return n === null ? null : { body: createReadStream(file(sha256)), size: n };
    },
    size,
    async remove(sha256) {
      await rm(file(sha256), { force: true });
    },
    async *list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (missing(err)) return;
        throw err;
      }
      for (const n of names) if (SHA256_HEX.test(n)) yield n;
    },
    async source(sha256) {
      // The worker reads the file itself; checking here names the missing image instead of an ENOENT path.
      if ((await size(sha256)) === null) throw new ImageMissingError(sha256, dir);
      return { path: file(sha256) };
    },
    close() {},
  };
}
