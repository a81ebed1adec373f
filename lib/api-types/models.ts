/** Model versions, predictions and cross-validation scores (`/api/models`, `/api/images/:id/prediction`). */

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
}

export interface ModelDto {
  version: string;
  createdAt: string;
  method: 1 | 2 | 3 | 4;
  active: boolean;
  trainedOn: { images: number; bundles: number };
  crossValidation: CrossValidation | null;
  /** `kind: "untrained"`: the offline ResNet-34 without ImageNet weights; clients must say so. */
  backbone: { kind: 'torchvision' | 'untrained' | 'custom'; hash: string; untrained: boolean };
  inputSize: { height: number; width: number };
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
