import { stillHeld } from '../../../lib/jobs/queue.ts';
import { EvidencePayload, UnusualnessPayload } from '../../../lib/jobs/payloads.ts';
import { JobAbandoned, type JobContext, type JobHandler } from '../../../lib/jobs/worker.ts';
import { EVIDENCE_VERSION } from '../evidence/extract.ts';
import { MIN_NORMALS, unusualnessReason } from '../evidence/unusualness.ts';
import { evidenceOf, replaceUnusualness, type UnusualnessRow } from './evidence-store.ts';
import * as repo from './repository.ts';
import type { RunnerResources } from './resources.ts';

/**
 * Refit the normal model over the stored evidence and rewrite every image's unusualness (evidence/unusualness.ts):
 * fit on all images while fewer than MIN_NORMALS are consensus-normal, on the consensus-normal ones afterwards.
 * Images without evidence (not computed yet, or of another vector length) get no row. The rewrite is one
 * transaction that first checks the job is still held (`holder`), so a swept runner writes nothing.
 */
export async function refitUnusualness(
  res: RunnerResources,
  holder?: { jobId: string; workerId: string },
): Promise<{ images: number; fitOn: 'all' | 'normal'; fitImages: number; shrinkage: number | null }> {
  const images = await repo.imagesById(res.db);
  const vectors = await evidenceOf(res.db, EVIDENCE_VERSION, [...new Set(images.map((im) => im.sha256))]);
  // One vector length per definition; anything else (a truncated row) is left out rather than mixed in.
  const lengths = new Map<number, number>();
  for (const v of vectors.values()) lengths.set(v.length, (lengths.get(v.length) ?? 0) + 1);
  const dim = [...lengths].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  const scored = images.filter((im) => vectors.get(im.sha256)?.length === dim);
  const consensus = await repo.consensusOf(res.db);
  const normal = scored.map((im) => {
    const c = consensus.get(im.id);
    return c?.status === 'resolved' && c.verdict === 'normal';
  });
  const normals = normal.filter(Boolean).length;
  const fitOn = normals >= MIN_NORMALS ? 'normal' : 'all';
  let rows: UnusualnessRow[] = [];
  let result: Awaited<ReturnType<RunnerResources['unusualness']>> | null = null;
  if (scored.length > 0 && dim > 0) {
    const table = new Float32Array(scored.length * dim);
    scored.forEach((im, i) => table.set(vectors.get(im.sha256)!, i * dim));
    result = await res.unusualness({
      vectors: table,
      dim,
      bundles: scored.map((im) => im.bundle),
      fit: fitOn === 'normal' ? normal : scored.map(() => true),
    });
    const names = await res.evidenceNames();
    const r = result;
    rows = scored.map((im, i) => ({
      image_id: im.id,
      score: r.scores[i],
      bundle_percentile: 100 * r.bundlePercentile[i],
      reason: unusualnessReason(
        im.bundle,
        r.bundleRank[i],
        r.bundleSize[i],
        names.length === dim ? names[r.strongest[i]] : `feature ${r.strongest[i]}`,
        r.strongestZ[i],
      ),
    }));
  }
  await res.db.transaction().execute(async (tx) => {
    if (holder && !(await stillHeld(tx, holder.jobId, holder.workerId)))
      throw new JobAbandoned('this runner no longer holds the job');
    await replaceUnusualness(tx, EVIDENCE_VERSION, rows);
  });
  return {
    images: rows.length,
    fitOn,
    fitImages: result?.fitImages ?? 0,
    shrinkage: result ? Math.round(result.shrinkage * 1e4) / 1e4 : null,
  };
}

/**
 * The `evidence` job for an upload batch: evidence vectors and heatmaps of the new images (no label, no model
 * needed), then the unusualness of every image refit with them, so a fresh upload is ranked at once.
 */
export function evidenceHandler(res: RunnerResources): JobHandler<EvidencePayload> {
  return {
    schema: EvidencePayload,
    async run(ctx: JobContext<EvidencePayload>) {
      const images = await repo.imagesById(res.db, ctx.payload.imageIds);
      const failed: string[] = [];
      const vectors = await res.evidence(images, {
        partial: true,
        failed,
        onProgress: (d, t) => ctx.progress((0.9 * d) / t, `evidence ${d}/${t} images`),
      });
      await ctx.progress(0.9, 'unusualness');
      const fit = await refitUnusualness(res, { jobId: ctx.job.id, workerId: ctx.workerId });
      // After the refit, so the images that worked are ranked; the failure keeps the retry and backoff.
      if (failed.length > 0)
        throw new Error(`evidence failed for ${failed.length} file(s): ${failed.slice(0, 3).join('; ')}`);
      return { evidence: vectors.size, version: EVIDENCE_VERSION, unusualness: fit };
    },
  };
}

/** The `unusualness` job: a refit after labels changed (the normal model moves to consensus-normal images). */
export function unusualnessHandler(res: RunnerResources): JobHandler<UnusualnessPayload> {
  return {
    schema: UnusualnessPayload,
    async run(ctx: JobContext<UnusualnessPayload>) {
      return refitUnusualness(res, { jobId: ctx.job.id, workerId: ctx.workerId });
    },
  };
}
