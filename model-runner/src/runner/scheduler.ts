import { anyActive, enqueue, latestJobOf } from '../../../lib/jobs/queue.ts';
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
/** Images per `embed` / `evidence` job. */
const BATCH = 10_000;
/** A batch that failed for good (e.g. an unreadable file) is not retried in a loop: the next waits this long. */
const FAILED_BATCH_PAUSE_MS = 600_000;

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
    const ids = await repo.imagesWithoutEvidence(db, EVIDENCE_VERSION, BATCH);
    if (ids.length === 0) return null;
    const last = await latestJobOf(db, ['evidence']);
    if (last?.status === 'failed' && Date.now() - (last.finished_at?.getTime() ?? 0) < FAILED_BATCH_PAUSE_MS)
      return null;
    if (last?.status === 'queued' || last?.status === 'running') return null;
    const job = await enqueue(db, 'evidence', { imageIds: ids }, { key: 'evidence:new' });
    return job?.id ?? null;
  }

  /**
   * Enqueue an `unusualness` refit when at least MIN_NORMALS images are consensus-normal (the fit moves from all
   * images to them) and REFIT_EVERY images were resolved since the last evidence or unusualness job.
   */
  async maybeRefitUnusualness(): Promise<string | null> {
    const db = this.res.db;
    if ((await repo.consensusNormalCount(db)) < MIN_NORMALS) return null;
    const last = await latestJobOf(db, ['evidence', 'unusualness']);
    if ((await repo.resolvedSince(db, last?.created_at)) < REFIT_EVERY) return null;
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
    const last = await latestJobOf(db, ['train']);
    const fresh = await repo.resolvedSince(db, last?.created_at);
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
    const active = await repo.activeVersionCreated(db);
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
      const rows = await repo.storedPredictions(db, active.model_version, chunk);
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
    if (active) ids = await repo.imagesUnscoredBy(db, active.id, BATCH);
    else {
      // Building the backbone can take a minute: never hold the claim loop for it.
      const backbone = this.res.backboneIfReady();
      if (!backbone) return null;
      const key = { backboneHash: backbone.hash, inputSize: this.res.inputSizeKey, method: DEFAULT_METHOD };
      ids = await repo.imagesNotEmbedded(db, key, BATCH);
    }
    if (ids.length === 0) return null;
    // A batch that failed for good (e.g. an unreadable file) is not retried in a loop: wait 10 minutes.
    const lastEmbed = await latestJobOf(db, ['embed']);
    if (
      lastEmbed?.status === 'failed' &&
      Date.now() - (lastEmbed.finished_at?.getTime() ?? 0) < FAILED_BATCH_PAUSE_MS
    )
      return null;
    // One batch at a time: while one is queued or running, the next check waits for it.
    if (await anyActive(db, ['embed', 'score'])) return null;
    const job = await enqueue(db, 'embed', { imageIds: ids }, { key: 'embed:new' });
    return job?.id ?? null;
  }
}
