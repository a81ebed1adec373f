import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB, Role } from '../../../lib/db/schema.ts';
import type { DatabaseKind } from '../../../lib/db/connect.ts';
import type { Config } from '../config.ts';
import type { ImageStore } from '../../../lib/image-store/image-store.ts';
import type { Batcher } from '../votes/batcher.ts';
import type { SessionCache } from '../auth/session-cache.ts';
import type { SignInThrottle } from '../auth/rate-limit.ts';
import type { RecordedVote } from '../votes/record-votes.ts';
import type { NewVote } from '../votes/votes.repository.ts';

/** What every request can reach: no container, just these. */
export interface Services {
  db: Kysely<DB>;
  dbKind: DatabaseKind;
  config: Config;
  logger: Logger;
  /** The original images (config.imageStore): a directory or an S3 bucket. */
  images: ImageStore;
  /** Wakes the model runner when a job is enqueued (in-process runner or NOTIFY). */
  notifyJobs: () => void;
  /** After a commit that decided or changed labels: tells model runners soon (debounced, label-notifier.ts). */
  labelsChanged: () => void;
  /** Stores votes in batches (group commit, votes/batcher.ts); undefined: no such image. */
  votes: Batcher<NewVote, RecordedVote | undefined>;
  /** Live sessions remembered for a second (auth/session-cache.ts). */
  sessions: SessionCache;
  /** Sign-in throttles of this process (auth/rate-limit.ts). */
  signIns: SignInThrottle;
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
