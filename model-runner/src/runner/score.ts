import { stillHeld } from '../../../lib/jobs/queue.ts';
import { DEFAULT_METHOD, EmbedPayload, ScorePayload } from '../../../lib/jobs/payloads.ts';
import {
  JobAbandoned,
  PermanentJobError,
  type JobContext,
  type JobHandler,
} from '../../../lib/jobs/worker.ts';
import { computePriority, coverageFrom } from '../priority/priority.ts';
import { EVIDENCE_VERSION } from '../evidence/extract.ts';
import { composeFeatures, usesEmbedding, usesEvidence } from '../evidence/features.ts';
import { unusualnessOf } from './evidence-store.ts';
import { decodeHeads } from '../../../lib/model/head-codec.ts';
import { featuresOf } from './train.ts';
import { bundleNormalisedEvidence } from './bundle-evidence.ts';
import * as repo from './repository.ts';
import type { RunnerResources } from './resources.ts';

type Progress = (p: number, message: string) => Promise<void>;

/**
 * Score images with a model version from their cached unflipped embeddings (computing the missing ones):
 * P(abnormal) and, when the version has the anomaly-type head, P(type) for each of its types; attach each
 * image's priority and reason (model-runner/src/priority), and store them as that version's predictions.
 * Returns the number of images scored and where the time went.
 */
export async function scoreWithVersion(
  res: RunnerResources,
  version: repo.ModelVersionRow,
  imageIds: readonly string[] | undefined,
  progress: Progress,
): Promise<{ scored: number; seconds: Record<string, number> }> {
  const backbone = await res.backbone();
  if (
    version.backbone_hash !== backbone.hash ||
    `${version.input_height}x${version.input_width}` !== res.inputSizeKey
  ) {
    throw new PermanentJobError(
      `model version ${version.id} was trained on backbone ${version.backbone_hash.slice(0, 12)} at ` +
        `${version.input_height}x${version.input_width}; this runner has ${backbone.hash.slice(0, 12)} at ` +
        `${res.inputSizeKey} (set PLATINA_BACKBONE and PLATINA_INPUT_SIZE alike)`,
    );
  }
  const { features, evidenceVersion } = featuresOf(version);
  if (usesEvidence(features) && evidenceVersion !== EVIDENCE_VERSION)
    throw new PermanentJobError(
      `model version ${version.id} was trained on evidence ${evidenceVersion}; this runner computes ${EVIDENCE_VERSION}`,
    );
  const t0 = performance.now();
  const images = await repo.imagesById(res.db, imageIds);
  const bounds = await repo.datasetBounds(res.db);
  let embedded: { vectors: Float32Array; dim: number } | null = null;
  if (usesEmbedding(features)) {
    const vectors = await res.embeddings(images, version.method, bounds, {
      flips: [0],
      onProgress: (d, t) => progress((0.6 * d) / t, `embedding ${d}/${t} images`),
    });
    const table = new Float32Array(images.length * 512);
    images.forEach((im, i) => table.set(vectors.get(im.sha256)![0], i * 512));
    embedded = { vectors: table, dim: 512 };
  }
  const evidence = usesEvidence(features)
    ? await bundleNormalisedEvidence(res, images, (d, t) =>
        progress(0.6 + (0.1 * d) / t, `evidence ${d}/${t} images of their bundles`),
      )
    : null;
  const t1 = performance.now();
  await progress(0.7, `scoring ${images.length} images`);
  // The same composition as training (features.ts), unflipped only.
  const composed = composeFeatures(features, images.length, 1, embedded, evidence);
  const heads = decodeHeads(version.head_weights);
  const embeddings = { vectors: composed.vectors, images: images.length, variants: 1, dim: composed.dim };
  const p = await res.score(heads.head, embeddings);
  const types = heads.anomalyHead;
  const pTypes = types ? await res.scoreAnomalies(types.params, embeddings) : null;
  // Four decimals: 11 probabilities per image stay a small jsonb, and nothing downstream needs more.
  const anomaliesOf = (i: number) =>
    types && pTypes
      ? types.codes.map((code, t) => ({
          code,
          p: Math.round(pTypes[i * types.codes.length + t] * 1e4) / 1e4,
        }))
      : [];
  const t2 = performance.now();
  const [consensus, perBundle, unusual] = await Promise.all([
    repo.consensusOf(res.db, imageIds),
    repo.labeledPerBundle(res.db),
    unusualnessOf(res.db, imageIds),
  ]);
  const coverage = coverageFrom(perBundle);
  const rows = images.map((im, i) => {
    const c = consensus.get(im.id);
    const pr = computePriority(
      {
        pAbnormal: p[i],
        status: c?.status ?? 'unlabeled',
        verdict: c?.verdict ?? null,
        normalVotes: c?.normal_votes ?? 0,
        abnormalVotes: c?.abnormal_votes ?? 0,
        bundle: im.bundle,
        unusualness: unusual.get(im.id) ?? null,
      },
      coverage,
    );
    return { image_id: im.id, p_abnormal: p[i], ...pr, anomalies: anomaliesOf(i) };
  });
  const t3 = performance.now();
  await progress(0.85, `storing ${rows.length} predictions`);
  await repo.upsertPredictions(res.db, version.id, rows);
  const t4 = performance.now();
  const sec = (a: number, b: number) => Math.round(b - a) / 1000;
  return {
    scored: rows.length,
    seconds: { embeddings: sec(t0, t1), inference: sec(t1, t2), priorities: sec(t2, t3), store: sec(t3, t4) },
  };
}

export function scoreHandler(res: RunnerResources): JobHandler<ScorePayload> {
  return {
    schema: ScorePayload,
    async run(ctx: JobContext<ScorePayload>) {
      const { modelVersion, imageIds, activate } = ctx.payload;
      res.bindAbort(ctx.signal);
      const version = modelVersion
        ? await repo.findVersion(res.db, modelVersion)
        : await repo.activeVersion(res.db);
      if (!version)
        throw new PermanentJobError(
          modelVersion ? `no model version ${modelVersion}` : 'no active model to score with',
        );
      const { scored, seconds } = await scoreWithVersion(res, version, imageIds, ctx.progress);
      if (activate) {
        // Predictions of every image are in place: switch the queue to this version in one step.
        await res.db.transaction().execute(async (tx) => {
          if (!(await stillHeld(tx, ctx.job.id, ctx.workerId)))
            throw new JobAbandoned('this runner no longer holds the job');
          await repo.insertActivation(tx, version.id, activate);
        });
      }
      return { modelVersion: version.id, scored, activated: Boolean(activate), seconds };
    },
  };
}

/**
 * The `embed` job for an upload batch: embed the new images (all four flips) with the active version's
 * method and score them with it, so they enter the queue with a priority; before the first model, embed
 * them with method 1 so the first training finds them cached.
 */
export function embedHandler(res: RunnerResources): JobHandler<EmbedPayload> {
  return {
    schema: EmbedPayload,
    async run(ctx: JobContext<EmbedPayload>) {
      res.bindAbort(ctx.signal);
      const active = await repo.activeVersion(res.db);
      if (active) {
        const { scored } = await scoreWithVersion(res, active, ctx.payload.imageIds, ctx.progress);
        return { modelVersion: active.id, embedded: scored, scored };
      }
      const images = await repo.imagesById(res.db, ctx.payload.imageIds);
      const vectors = await res.embeddings(images, DEFAULT_METHOD, await repo.datasetBounds(res.db), {
        onProgress: (d, t) => ctx.progress(d / t, `embedding ${d}/${t} images`),
      });
      return { modelVersion: null, embedded: vectors.size, scored: 0 };
    },
  };
}
