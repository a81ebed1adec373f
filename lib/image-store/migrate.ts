import { createHash } from 'node:crypto';
import type { ImageStore } from './image-store.ts';

export interface MigrationReport {
  /** Written to the target by this run. */
  copied: number;
  /** Already in the target with the same size (a rerun after an interruption). */
  present: number;
  /** Read back from the target and hashed to their key: every image, copied or present. */
  verified: number;
  /** Images that failed, with the reason: a source file that does not hash to its name, a read-back mismatch, an error. */
  problems: { sha256: string; reason: string }[];
}

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Copies every image of `from` into `to` (e.g. a local directory into a bucket) and verifies each one by reading
 * it back from `to` and hashing it. Idempotent: a rerun skips what is there with the right size, and verifies it
 * again. Never throws for one image: its problem lands in the report.
 */
export async function migrateImages(
  from: ImageStore,
  to: ImageStore,
  o: { concurrency?: number; progress?: (done: number, sha256: string) => void } = {},
): Promise<MigrationReport> {
  const report: MigrationReport = { copied: 0, present: 0, verified: 0, problems: [] };
  const keys = from.list()[Symbol.asyncIterator]();
  let done = 0;
  const one = async (sha256: string) => {
    const bytes = await from.get(sha256);
    if (bytes === null) throw new Error('vanished from the source while copying');
    const got = sha256Of(bytes);
    if (got !== sha256) throw new Error(`the source file hashes to ${got}: damaged, not copied`);
    if ((await to.size(sha256)) === bytes.length) report.present++;
    else {
      await to.put(sha256, { bytes });
      report.copied++;
    }
    const back = await to.get(sha256);
    if (back === null) throw new Error('not in the target after the copy');
    const backSha = sha256Of(back);
    if (backSha !== sha256) throw new Error(`the target's copy hashes to ${backSha}`);
    report.verified++;
  };
  const worker = async () => {
    for (;;) {
      const next = await keys.next();
      if (next.done) return;
      try {
        await one(next.value);
      } catch (err) {
        report.problems.push({ sha256: next.value, reason: (err as Error).message });
      }
      o.progress?.(++done, next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker));
  report.problems.sort((a, b) => a.sha256.localeCompare(b.sha256));
  return report;
}
