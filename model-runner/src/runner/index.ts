import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../../lib/db/schema.ts';
import { JobRunner } from '../../../lib/jobs/worker.ts';
import type { ComputeThread } from './compute.ts';
import type { ImageSourceReader } from '../../../lib/image-store/image-store.ts';
import { RunnerResources } from './resources.ts';
import { Scheduler } from './scheduler.ts';
import { embedHandler, scoreHandler } from './score.ts';
import { trainHandler } from './train.ts';
import { evidenceHandler, unusualnessHandler } from './evidence-jobs.ts';

export interface ModelRunnerOptions {
  db: Kysely<DB>;
  logger: Logger;
  dataDir: string;
  /** Where image bytes come from; default: the store PLATINA_IMAGE_STORE names (resources.ts). */
  images?: ImageSourceReader;
  env?: NodeJS.ProcessEnv;
  /** PostgreSQL URL to LISTEN on; absent for the embedded database (wake() from the API instead). */
  listenUrl?: string;
  pollMs?: number;
  /** A job whose runner stopped heartbeating this long ago goes back to the queue (lib/jobs, default 60 s). */
  staleSeconds?: number;
  workerId?: string;
  /** Share a compute thread (tests); by default the runner has its own. */
  compute?: ComputeThread;
  /** Run the active loop's scheduler (auto retraining, priority refresh, new uploads) before claims. */
  schedule?: boolean;
}

export interface ModelRunner {
  jobs: JobRunner;
  scheduler: Scheduler;
  resources: RunnerResources;
  start(): void;
  wake(): void;
  stop(graceMs?: number): Promise<void>;
}

/** The model runner: the job runner with Platina's handlers (train, score, embed, evidence, unusualness) and the scheduler. */
export function createModelRunner(o: ModelRunnerOptions): ModelRunner {
  const resources = new RunnerResources({
    db: o.db,
    logger: o.logger,
    dataDir: o.dataDir,
    images: o.images,
    env: o.env,
    compute: o.compute,
  });
  const scheduler = new Scheduler(resources);
  const jobs = new JobRunner({
    db: o.db,
    logger: o.logger,
    listenUrl: o.listenUrl,
    pollMs: o.pollMs,
    staleSeconds: o.staleSeconds,
    workerId: o.workerId,
    handlers: {
      train: trainHandler(resources),
      score: scoreHandler(resources),
      embed: embedHandler(resources),
      evidence: evidenceHandler(resources),
      unusualness: unusualnessHandler(resources),
    },
    beforeClaim: o.schedule === false ? undefined : () => scheduler.tick(),
  });
  return {
    jobs,
    scheduler,
    resources,
    start: () => jobs.start(),
    wake: () => jobs.wake(),
    async stop(graceMs) {
      await jobs.stop(graceMs);
      await resources.close();
    },
  };
}
