import pino from 'pino';
import { ConfigError, loadConfig } from './config.ts';
import { DatabaseLockedError } from '../../lib/db/connect.ts';
import { openDatabase, startServer } from './server.ts';
import { demoCommand } from './demo/demo-command.ts';

/** `npm start`: the API, the client and (with the embedded database) the model runner in one process. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`platina: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel });
  let database;
  try {
    database = await openDatabase(config, logger);
  } catch (err) {
    if (err instanceof DatabaseLockedError) {
      console.error(`platina: ${err.message}`);
      process.exit(3);
    }
    throw err;
  }
  const server = await startServer(config, database, {
    logger,
    onAdminCreated: ({ password, generated }) => {
      const line = generated
        ? `First start: created user "admin" with password ${password} — it is shown only this once.`
        : 'First start: created user "admin" with the password from PLATINA_ADMIN_PASSWORD.';
      const demo = demoCommand(config.port, generated ? password : null);
      console.log(
        `\n  ${line}\n  Load demo data: ${demo} (in a second terminal), or the button on the admin page.\n`,
      );
    },
  });
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded PostgreSQL in ${config.dataDir}/db`;
  console.log(`Platina is serving on http://localhost:${config.port} (database: ${where})`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    await server.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

await main();
