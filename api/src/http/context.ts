import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB, Role } from '../../../lib/db/schema.ts';
import type { DatabaseKind } from '../../../lib/db/connect.ts';
import type { Config } from '../config.ts';

/** What every request can reach: no container, just these. */
export interface Services {
  db: Kysely<DB>;
  dbKind: DatabaseKind;
  config: Config;
  logger: Logger;
  /** Wakes the model runner when a job is enqueued (in-process runner or NOTIFY). */
  notifyJobs: () => void;
  /** After a commit that decided or changed labels: tells model runners soon (debounced, label-notifier.ts). */
  labelsChanged: () => void;
}

export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  sessionId: string;
}

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    user?: AuthUser;
    input?: unknown;
  }
  interface DefaultContext {
    services: Services;
    log: Logger;
  }
}
