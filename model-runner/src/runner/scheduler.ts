import { sql } from 'kysely';
import { enqueue } from '../../../lib/jobs/queue.ts';
import { DEFAULT_METHOD } from '../../../lib/jobs/payloads.ts';
import { computePriority, coverageFrom } from '../priority/priority.ts';
import { EVIDENCE_VERSION } from '../evidence/extract.ts';
import { MIN_NORMALS } from '../evidence/unusualness.ts';
import { unusualnessOf } from './evidence-store.ts';
import * as repo from './repository.ts';
import type { RunnerResources } from './resources.ts';

/**
 * The active loop's bookkeeping, run by the runner before each claim (issue 7):
 * 1. retraining after `retrainEvery` new resolved labels: debounced by the queue's dedup key (at most one
 *    queued automatic training) and one training at a time (the claim never starts a second);
 * 2. priorities that follow the votes: images whose consensus changed get their priority and reason
 *    recomputed from the active version's stored P(abnormal) (no model run needed);
 * 3. new uploads: images the active version has not scored are embedded and scored (an `embed` job per
 *    batch), so the queue is never stale;
 * 4. evidence (issue 13): images without an evidence vector of the current EVIDENCE_VERSION get one `evidence`
 *    job per batch (no model needed, so from the first upload on), which also refits the unusualness; once
 *    labels exist, every REFIT_EVERY new resolved labels refit it on the consensus-normal images.
 */
/** New resolved labels between two refits of the normal model (a refit costs seconds, not a training). */
export const REFIT_EVERY = 10;

export class Scheduler {
  private lastRefresh: Date | null = null;
  private lastVersion: string | null | undefined = undefined;
  private lastNewImagesCheck = 0;

  constructor(
    private readonly res: RunnerResources,
    private readonly opts: { newImagesEveryMs?: number } = {},
  ) {}

  async tick(): Promise<void> {
    await this.maybeRetrain();
    await this.refreshPriorities();
    if (Date.now() - this.lastNewImagesCheck >= (this.opts.newImagesEveryMs ?? 5000)) {
      this.lastNewImagesCheck = Date.now();
      await this.embedNewImages();
      await this.evidenceForNewImages();
      await this.maybeRefitUnusualness();
    }
  }

  /**
   * Enqueue one `evidence` job for images lacking evidence of the current definition (at most one queued or
   * running; a failed batch waits 10 minutes, as `embed` does). Returns the job id, or null.
   */
  async evidenceForNewImages(): Promise<string | null> {
    const db = this.res.db;
    const rows = await db
      .selectFrom('images as i')
      .select('i.id')
      .where('i.excluded', '=', false) // nor given evidence (repository.imagesById)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('image_evidence as e')
              .select(sql`1`.as('one'))
              .whereRef('e.sha256', '=', 'i.sha256')
              .where('e.version', '=', EVIDENCE_VERSION),
          ),
        ),
      )
      .orderBy('i.id')
      .limit(10_000)
      .execute();
    if (rows.length === 0) return null;
    const last = await db
      .selectFrom('jobs')
      .select(['status', 'finished_at'])
      .where('kind', '=', 'evidence')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (last?.status === 'failed' && Date.now() - (last.finished_at?.getTime() ?? 0) < 600_000) return null;
    if (last?.status === 'queued' || last?.status === 'running') return null;
    const job = await enqueue(db, 'evidence', { imageIds: rows.map((r) => r.id) }, { key: 'evidence:new' });
    return job?.id ?? null;
  }

  /**
   * Enqueue an `unusualness` refit when at least MIN_NORMALS images are consensus-normal (the fit moves from all
   * images to them) and REFIT_EVERY images were resolved since the last evidence or unusualness job.
   */
  async maybeRefitUnusualness(): Promise<string | null> {
    const db = this.res.db;
    const normals = await db
      .selectFrom('image_consensus')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'resolved')
      .where('verdict', '=', 'normal')
      .executeTakeFirstOrThrow();
    if (Number(normals.n) < MIN_NORMALS) return null;
    const last = await db
      .selectFrom('jobs')
      .select('created_at')
      .where('kind', 'in', ['evidence', 'unusualness'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    let q = db
      .selectFrom('image_consensus')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'resolved');
    if (last) q = q.where('resolved_at', '>', last.created_at as never);
    if (Number((await q.executeTakeFirstOrThrow()).n) < REFIT_EVERY) return null;
    const job = await enqueue(db, 'unusualness', {}, { key: 'unusualness' });
    return job?.id ?? null;
  }

  /**
   * Enqueue an automatic training when at least `retrainEvery` images got a new label (resolved, or their
   * decision changed) since the last training was enqueued. Returns the job id, or null. Counted by
   * `resolved_at`, which keeps its time while a decision stands (a confirming late vote does not move it),
   * not by `updated_at`, which every vote moves.
   */
  async maybeRetrain(): Promise<string | null> {
    const db = this.res.db;
    const every = await repo.retrainEvery(db);
    const last = await db
      .selectFrom('jobs')
      .select('created_at')
      .where('kind', '=', 'train')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    let q = db
      .selectFrom('image_consensus')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'resolved');
    if (last) q = q.where('resolved_at', '>', last.created_at as never);
    const fresh = Number((await q.executeTakeFirstOrThrow()).n);
    if (fresh < every) return null;
    const active = await repo.activeVersion(db);
    const job = await enqueue(
      db,
      'train',
      { method: active?.method ?? DEFAULT_METHOD, crossValidate: false, auto: true },
      { key: 'train:auto' },
    );
    if (job)
      this.res.logger.info({ job: job.id, newLabels: fresh, retrainEvery: every }, 'automatic retraining');
    return job?.id ?? null;
  }

  /**
   * Recompute priorities of images whose consensus changed since the last refresh (5 s of overlap: a
   * transaction that began before the last read but committed after it is caught the next time). When
   * the active version changed (perhaps scored by another runner), "since" goes back to that version's
   * creation, which precedes its score job's reading of the consensus.
   */
  async refreshPriorities(): Promise<number> {
    const db = this.res.db;
    const now = await repo.now(db);
    const active = await db
      .selectFrom('active_model as a')
      .innerJoin('model_versions as v', 'v.id', 'a.model_version')
      .select(['a.model_version', 'v.created_at'])
      .executeTakeFirst();
    let since = this.lastRefresh ? new Date(this.lastRefresh.getTime() - 5000) : new Date(0);
    if (active && active.model_version !== this.lastVersion && this.lastVersion !== undefined) {
      since = new Date(Math.min(since.getTime(), active.created_at.getTime() - 5000));
    }
    this.lastRefresh = now;
    this.lastVersion = active?.model_version ?? null;
    if (!active) return 0;
    const changed = await repo.consensusChangedSince(db, since);
    if (changed.length === 0) return 0;
    const coverage = coverageFrom(await repo.labeledPerBundle(db));
    let count = 0;
    // In chunks: a settings change can touch every image, and a statement takes at most 65 535 parameters.
    for (let start = 0; start < changed.length; start += 5000) {
      const chunk = changed.slice(start, start + 5000);
      const rows = await db
        .selectFrom('predictions as p')
        .innerJoin('images as i', 'i.id', 'p.image_id')
        .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
        .select(['p.image_id', 'p.p_abnormal', 'b.name as bundle'])
        .where('p.model_version', '=', active.model_version)
        .where('p.image_id', 'in', chunk)
        .execute();
      if (rows.length === 0) continue;
      const consensus = await repo.consensusOf(db, chunk);
      const unusual = await unusualnessOf(db, chunk);
      const updated = rows.map((r) => {
        const c = consensus.get(r.image_id);
        return {
          image_id: r.image_id,
          p_abnormal: r.p_abnormal,
          ...computePriority(
            {
              pAbnormal: r.p_abnormal,
              status: c?.status ?? 'unlabeled',
              verdict: c?.verdict ?? null,
              normalVotes: c?.normal_votes ?? 0,
              abnormalVotes: c?.abnormal_votes ?? 0,
              bundle: r.bundle,
              unusualness: unusual.get(r.image_id) ?? null,
            },
            coverage,
          ),
        };
      });
      await repo.upsertPredictions(db, active.model_version, updated);
      count += updated.length;
    }
    return count;
  }

  /** Enqueue one `embed` job for images the active version has not scored (or, before any model, not embedded). */
  async embedNewImages(): Promise<string | null> {
    const db = this.res.db;
    const active = await repo.activeVersion(db);
    let ids: string[];
    if (active) {
      const rows = await db
        .selectFrom('images as i')
        .select('i.id')
        .where('i.excluded', '=', false) // excluded images are neither embedded nor scored (repository.imagesById)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('predictions as p')
                .select(sql`1`.as('one'))
                .whereRef('p.image_id', '=', 'i.id')
                .where('p.model_version', '=', active.id),
            ),
          ),
        )
        .orderBy('i.id')
        .limit(10_000)
        .execute();
      ids = rows.map((r) => r.id);
    } else {
      // Building the backbone can take a minute: never hold the claim loop for it.
      const backbone = this.res.backboneIfReady();
      if (!backbone) return null;
      const rows = await db
        .selectFrom('images as i')
        .select('i.id')
        .where('i.excluded', '=', false) // excluded images are neither embedded nor scored (repository.imagesById)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('embeddings as e')
                .select(sql`1`.as('one'))
                .whereRef('e.sha256', '=', 'i.sha256')
                .where('e.backbone_hash', '=', backbone.hash)
                .where('e.input_size', '=', this.res.inputSizeKey)
                .where('e.method', '=', DEFAULT_METHOD)
                .where('e.flip', '=', 0),
            ),
          ),
        )
        .orderBy('i.id')
        .limit(10_000)
        .execute();
      ids = rows.map((r) => r.id);
    }
    if (ids.length === 0) return null;
    // A batch that failed for good (e.g. an unreadable file) is not retried in a loop: wait 10 minutes.
    const lastEmbed = await db
      .selectFrom('jobs')
      .select(['status', 'finished_at'])
      .where('kind', '=', 'embed')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (lastEmbed?.status === 'failed' && Date.now() - (lastEmbed.finished_at?.getTime() ?? 0) < 600_000)
      return null;
    // One batch at a time: while one is queued or running, the next check waits for it.
    const busy = await db
      .selectFrom('jobs')
      .select('id')
      .where('kind', 'in', ['embed', 'score'])
      .where('status', 'in', ['queued', 'running'])
      .limit(1)
      .executeTakeFirst();
    if (busy) return null;
    const job = await enqueue(db, 'embed', { imageIds: ids }, { key: 'embed:new' });
    return job?.id ?? null;
  }
}
