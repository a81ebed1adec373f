/** Model versions, predictions and cross-validation scores (`/api/models`, `/api/images/:id/prediction`). */
import type { AnomalyCode } from '../anomaly-types.ts';
import type { Method } from '../domain.ts';

/** Counts with abnormal as the positive class. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface Score extends Confusion {
  /** null when one class is absent: then TPR or TNR is 0/0. */
  balancedAccuracy: number | null;
  /** Why balancedAccuracy is null (absent otherwise). */
  note?: string;
}

export interface BundleScore extends Score {
  bundle: string;
}

/** Leave-one-bundle-out cross-validation of a model version (paper section 3.2). */
export interface CrossValidation {
  perBundle: BundleScore[];
  overall: Score;
  /** The anomaly-type head's scores beside the binary table (issue 7); absent for versions without that head. */
  anomalies?: AnomalyCrossValidation;
}

/** Pooled average precision of the anomaly-type head per type (model-runner/src/cv/average-precision.ts). */
export interface AnomalyCrossValidation {
  /** Types with fewer positive images than this report null instead of a number. */
  minPositives: number;
  /** One entry per type, in the paper's order. */
  perType: AnomalyTypeScore[];
}

export interface AnomalyTypeScore {
  code: AnomalyCode;
  /** Held-out images that show the type, and all held-out images whose types are known. */
  positives: number;
  images: number;
  /** Average precision 0..1 over the pooled held-out scores; null below `minPositives` positives. */
  averagePrecision: number | null;
  /**
   * The same for a model that only knows each fold's training share of the type (the head before it learns from
   * the images): what averagePrecision must beat. Null below `minPositives` positives.
   */
  priorOnlyAveragePrecision: number | null;
  /** Why the numbers are null (absent otherwise). */
  note?: string;
}

export interface ModelDto {
  version: string;
  createdAt: string;
  method: Method;
  active: boolean;
  trainedOn: { images: number; bundles: number };
  crossValidation: CrossValidation | null;
  /** `kind: "untrained"`: the offline ResNet-34 without ImageNet weights; clients must say so. */
  backbone: { kind: 'torchvision' | 'untrained' | 'custom'; hash: string; untrained: boolean };
  inputSize: { height: number; width: number };
  /**
   * What the head saw (PLATINA_FEATURES): 'paper' (the ResNet-34 embedding), 'evidence' (the fixed-filter
   * evidence vector) or 'fused' (both); `evidenceVersion` names the evidence definition, null for 'paper'.
   */
  features: 'paper' | 'evidence' | 'fused';
  evidenceVersion: string | null;
  /**
   * Method 2's bounds in force when it was trained, per bit depth, and whether they were pinned (issue 15); null for
   * versions trained before they were recorded. `GET /api/dataset/stats` compares the active one with today's.
   */
  globalBounds: { bitDepth: 8 | 16; lo: number; hi: number; pinned: boolean }[] | null;
  labelSnapshotHash: string;
  settings: unknown;
  jobId: string | null;
  /** Why the active version was activated. */
  activation?: { reason: string; at: string };
}

/** `GET /api/images/:id/prediction`. */
export interface PredictionDto {
  imageId: string;
  modelVersion: string;
  pAbnormal: number;
  priority: number;
  reason: string;
  anomalies: { code: string; p: number }[];
}
