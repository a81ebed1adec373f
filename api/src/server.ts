import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { openEmbedded, openPostgres, type Database } from '../../lib/db/connect.ts';
import { migrateToLatest } from '../../lib/db/migrate.ts';
import { labelNotifier, notifyRunnersOver } from './consensus/label-notifier.ts';
import { batcher } from './votes/batcher.ts';
import { SessionCache } from './auth/session-cache.ts';
import { SignInThrottle } from './auth/rate-limit.ts';
import { recordVotes } from './votes/record-votes.ts';
import { RuleInputsCache } from './votes/rule-inputs-cache.ts';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import type { Services } from './http/context.ts';
import { openImageStore } from '../../lib/image-store/open.ts';
import { bootstrapAdmin } from './users/users.service.ts';
import type { ModelRunner } from '../../model-runner/src/runner/index.ts';
import { closeExporter } from '../../model-runner/src/export/entry.ts';

export interface RunningServer {
  url: string;
  services: Services;
  database: Database;
  /** The model runner inside this process (config.embeddedRunner), else undefined. */
  runner?: ModelRunner;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`), close the database. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Open the configured database (embedded PGlite in dataDir/db, or DATABASE_URL). A pooled connection
 * the server drops while idle is logged and replaced, never fatal; so is a failed maintenance run of the
 * embedded database.
 */
export async function openDatabase(config: Config, logger?: Logger): Promise<Database> {
  return config.databaseUrl
    ? openPostgres(config.databaseUrl, undefined, (err) =>
        logger?.warn({ err }, 'an idle database connection failed; the pool opens a new one'),
      )
    : openEmbedded({
        dataDir: path.join(config.dataDir, 'db'),
        onMaintenanceError: (err) => logger?.warn({ err }, 'embedded database maintenance failed'),
      });
}

/**
 * Start Platina's HTTP server on an already opened database: migrate, create the first admin,
 * listen. `database` ownership passes to the returned server (its close() closes it).
 */
export async function startServer(
  config: Config,
  database: Database,
  opts: { logger?: Logger; onAdminCreated?: (r: { password: string; generated: boolean }) => void } = {},
): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel });
  await migrateToLatest(database.db);
  const labels = labelNotifier({
    wakeInProcess: () => services.notifyJobs(),
    notifyRunners: database.kind === 'postgres' ? notifyRunnersOver(database.db) : undefined,
    logger,
  });
  const known = new RuleInputsCache();
  const services: Services = {
    db: database.db,
    dbKind: database.kind,
    config,
    logger,
    images: openImageStore(config.imageStore),
    notifyJobs: () => {},
    labelsChanged: labels.changed,
    votes: batcher({ run: (votes) => recordVotes(database.db, votes, known), maxBatch: 200 }),
    sessions: new SessionCache(),
    signIns: new SignInThrottle(),
  };
  const admin = await bootstrapAdmin(services);
  if (admin) opts.onAdminCreated?.(admin);

  const app = buildApp(services);
  const server = http.createServer(app.callback());
  server.requestTimeout = 10 * 60_000; // large uploads on slow links
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  const { port } = server.address() as AddressInfo;

  // With the embedded database the model runner lives in this process; enqueues wake it directly
  // (LISTEN cannot work through the single embedded connection). Loaded lazily: onnxruntime stays out of
  // API-only processes.
  let runner: ModelRunner | undefined;
  if (config.embeddedRunner) {
    const { createModelRunner } = await import('../../model-runner/src/runner/index.ts');
    runner = createModelRunner({
      db: database.db,
      logger: logger.child({ component: 'runner' }),
      dataDir: config.dataDir,
      images: services.images,
      listenUrl: database.kind === 'postgres' ? database.url : undefined,
      pollMs: 1000,
    });
    const r = runner;
    services.notifyJobs = () => r.wake();
    runner.start();
  }

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    database,
    runner,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        await runner?.stop(graceMs); // hands a running job back to the queue when it cannot finish in time
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        await done;
        clearTimeout(timer);
        labels.close();
        await closeExporter(); // the ONNX export's thread, if an export ran
        services.images.close();
        await database.close();
      })();
      return closing;
    },
  };
}
