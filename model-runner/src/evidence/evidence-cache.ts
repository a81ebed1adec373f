/**
 * File cache of evidence vectors for `npm run cv`: `<dir>/<EVIDENCE_VERSION>/<sha256>.f32` (little-endian
 * float32 values) and `names.json` beside them. Keyed by the image's bytes and the definition's version, so a
 * changed definition never reads old vectors. Writes go to a temporary file renamed into place.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EVIDENCE_VERSION } from './extract.ts';

export class EvidenceFileCache {
  private readonly root: string;
  constructor(dir: string) {
    this.root = path.join(dir, EVIDENCE_VERSION);
  }

  async names(): Promise<string[] | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.root, 'names.json'), 'utf8')) as string[];
    } catch {
      return undefined;
    }
  }

  async get(sha256: string, dim: number): Promise<Float32Array | undefined> {
    if (!/^[0-9a-f]{16,128}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    try {
      const b = await readFile(path.join(this.root, `${sha256}.f32`));
      if (b.byteLength !== dim * 4) return undefined;
      return new Float32Array(new Uint8Array(b).buffer);
    } catch {
      return undefined;
    }
  }

  async put(sha256: string, values: Float32Array, names: readonly string[]): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const write = async (file: string, data: string | Uint8Array) => {
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, data);
      await rename(tmp, file);
    };
    if (!(await this.names())) await write(path.join(this.root, 'names.json'), JSON.stringify(names));
    await write(
      path.join(this.root, `${sha256}.f32`),
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    );
  }
}
