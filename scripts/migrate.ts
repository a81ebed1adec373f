import { ConfigError, loadConfig } from '../api/src/config.ts';
import { openDatabase } from '../api/src/server.ts';
import { migrateToLatest } from '../lib/db/migrate.ts';

/** `npm run migrate`: apply pending migrations to the configured database and exit. */
try {
  const config = loadConfig();
  const database = await openDatabase(config);
  const applied = await migrateToLatest(database.db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the schema is up to date');
  await database.close();
} catch (err) {
  console.error(`platina migrate: ${err instanceof ConfigError ? err.message : (err as Error).message}`);
  process.exit(1);
}
