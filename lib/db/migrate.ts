import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Migrations are `migrations/<timestamp>_<name>.ts`, applied in name order. */
class FolderProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(MIGRATIONS_DIR)).filter(
      (f) => /^\d.*\.ts$/.test(f) && !f.endsWith('.test.ts'),
    );
    const out: Record<string, Migration> = {};
    for (const f of files.sort()) {
      out[f.replace(/\.ts$/, '')] = (await import(path.join(MIGRATIONS_DIR, f))) as Migration;
    }
    return out;
  }
}

/** Bring the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new FolderProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).map((r) => r.migrationName);
}

/** A fingerprint of the migration files, so test templates are rebuilt when the schema changes. */
export async function migrationsFingerprint(): Promise<string> {
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256');
  for (const f of (await fs.readdir(MIGRATIONS_DIR)).sort()) {
    h.update(f);
    h.update(await fs.readFile(path.join(MIGRATIONS_DIR, f)));
  }
  return h.digest('hex').slice(0, 16);
}
