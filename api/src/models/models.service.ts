import { enqueue } from '../../../lib/jobs/queue.ts';
import { decodeHead } from '../../../lib/model/head-codec.ts';
import { BackboneMismatchError, exportClassifier } from '../../../model-runner/src/export/entry.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { getSettings } from '../settings/settings.service.ts';
import { hasVoted } from '../votes/votes.repository.ts';
import * as repo from './models.repository.ts';
import type { CrossValidation, ModelDto, PredictionDto } from '../../../lib/api-types/models.ts';
import type { Method } from '../../../lib/domain.ts';

/** `GET /api/models`: every version, newest first, with which one is active. */
export async function listModels(services: Services): Promise<ModelDto[]> {
  const [rows, active] = await Promise.all([
    repo.listVersions(services.db),
    repo.activeActivation(services.db),
  ]);
  return rows.map((r) => {
    const dto: ModelDto = {
      version: r.id,
      createdAt: r.created_at.toISOString(),
      method: r.method,
      active: r.id === active?.model_version,
      trainedOn: { images: r.trained_on_images, bundles: r.trained_on_bundles },
      // JSON the runner wrote from its CrossValidation (model-runner/src/runner/train.ts).
      crossValidation: (r.cross_validation ?? null) as CrossValidation | null,
      backbone: { kind: r.backbone_kind, hash: r.backbone_hash, untrained: r.backbone_kind === 'untrained' },
      inputSize: { height: r.input_height, width: r.input_width },
      features: r.features as ModelDto['features'],
      evidenceVersion: r.evidence_version,
      globalBounds: r.global_bounds,
      labelSnapshotHash: r.label_snapshot_hash,
      settings: r.settings,
      jobId: r.job_id,
    };
    if (dto.active && active) dto.activation = { reason: active.reason, at: active.created_at.toISOString() };
    return dto;
  });
}

/** `POST /api/models/train`: enqueue a training and wake the runner. */
export async function startTraining(
  services: Services,
  user: AuthUser,
  input: { method?: Method; crossValidate?: boolean },
): Promise<{ jobId: string }> {
  const job = await enqueue(
    services.db,
    'train',
    { method: input.method, crossValidate: input.crossValidate },
    { createdBy: user.id },
  );
  services.notifyJobs();
  return { jobId: job!.id };
}

/**
 * `POST /api/models/:version/activate` (a lead forces a version): a score job that stores the version's
 * predictions and priorities, then activates it, so the queue never orders by a version without them.
 */
export async function forceActivation(
  services: Services,
  user: AuthUser,
  version: string,
  reason: string,
): Promise<{ jobId: string }> {
  if (!(await repo.findVersion(services.db, version)))
    throw new AppError('not_found', `no model version ${version}`);
  const job = await enqueue(
    services.db,
    'score',
    { modelVersion: version, activate: `forced by ${user.username}: ${reason}` },
    { createdBy: user.id },
  );
  services.notifyJobs();
  return { jobId: job!.id };
}

/**
 * The blind rule of everything the model says about one image (its prediction, its heatmap): leads and admins
 * always see it; an expert only while the `showModelHint` setting is on, or after voting on the image — before
 * that, 403 naming `what`. The answer depends on the caller alone, never on whether the output exists, so a 403
 * tells an expert nothing about the image. Call it after the image's own 404.
 */
export async function assertModelOutputVisible(
  services: Services,
  user: AuthUser,
  imageId: string,
  what: string,
): Promise<void> {
  if (user.role !== 'expert' || (await getSettings(services.db)).showModelHint) return;
  if (!(await hasVoted(services.db, imageId, user.id)))
    throw new AppError(
      'forbidden',
      `votes are blind: ${what} is shown after you vote on this image (an admin can enable model hints)`,
    );
}

/**
 * `GET /api/images/:id/prediction`: the active version's prediction with its priority and reason; 404
 * before a model or when the image is not scored yet. Votes are blind: an expert who has not voted on
 * the image gets 403 unless the `showModelHint` setting lets experts see the model before voting.
 */
export async function getPrediction(
  services: Services,
  user: AuthUser,
  imageId: string,
): Promise<PredictionDto> {
  if (!(await repo.imageExists(services.db, imageId)))
    throw new AppError('not_found', `no image with id ${imageId}`);
  await assertModelOutputVisible(services, user, imageId, "the model's prediction");
  const active = await repo.activeActivation(services.db);
  if (!active) throw new AppError('not_found', 'no model is active yet: train one first');
  const p = await repo.predictionOf(services.db, imageId, active.model_version);
  if (!p)
    throw new AppError(
      'not_found',
      `image ${imageId} has no prediction from model version ${active.model_version} yet`,
    );
  return {
    imageId,
    modelVersion: p.model_version,
    pAbnormal: p.p_abnormal,
    priority: p.priority,
    reason: p.reason,
    anomalies: Array.isArray(p.anomalies) ? (p.anomalies as { code: string; p: number }[]) : [],
  };
}

/**
 * `GET /api/models/:version/onnx`: the backbone and the version's head merged into one ONNX classifier
 * (the runner's export entry point, model-runner/src/export/entry.ts, on its own thread). The backbone comes from this server's configuration
 * (PLATINA_BACKBONE, or the offline untrained ResNet-34); a version trained on another backbone → 409,
 * since its head would be merged with the wrong features.
 */
export async function exportOnnx(
  services: Services,
  version: string,
): Promise<{ bytes: Uint8Array; filename: string }> {
  const row = await repo.findVersion(services.db, version);
  if (!row) throw new AppError('not_found', `no model version ${version}`);
  // The merged graph is backbone + head on the image alone. A head that also saw the evidence vector would need
  // the evidence extractor inside the graph (or an `evidence` input the caller fills with our extractor):
  // neither is a plain classifier, so only 'paper' versions export (README, "Exporting a model").
  if (row.features !== 'paper')
    throw new AppError(
      'conflict',
      `model version ${version} saw features '${row.features}' (embedding and evidence): only 'paper' versions export as one ONNX classifier; train one with PLATINA_FEATURES=paper`,
    );
  try {
    const bytes = await exportClassifier({
      env: { ...process.env },
      head: decodeHead(row.head_weights),
      backboneHash: row.backbone_hash,
      metadata: {
        'platina.model_version': row.id,
        'platina.method': String(row.method),
        'platina.input_size': `${row.input_height}x${row.input_width}`,
        'platina.label_snapshot': row.label_snapshot_hash,
      },
    });
    return { bytes, filename: `platina-model-${row.id}-method${row.method}.onnx` };
  } catch (err) {
    if (err instanceof BackboneMismatchError)
      throw new AppError('conflict', `model version ${version}: ${(err as Error).message}`);
    throw err;
  }
}
