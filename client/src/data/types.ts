/** DTOs of the HTTP contract (`shared/spec/API.md`). Optional fields are additions the contract allows. */
import type { AnomalyCode } from '../../../lib/anomaly-types.ts';

export type { AnomalyCode };
export type Role = 'expert' | 'lead' | 'admin' | 'runner';
export type Verdict = 'normal' | 'abnormal';
export type ImageStatus = 'unlabeled' | 'pending' | 'needs_lead' | 'resolved';

export interface User {
  id: string;
  username: string;
  role: Role;
  disabled?: boolean;
}

export interface AnomalyType {
  code: AnomalyCode;
  name: string;
}

export interface Prediction {
  modelVersion: string | number;
  pAbnormal: number;
  priority?: number;
  reason?: string;
  anomalies?: { code: AnomalyCode; p: number }[];
}

export interface ImageDto {
  id: string;
  bundle: string;
  name: string;
  width: number;
  height: number;
  bitDepth: 8 | 16;
  sha256: string;
  createdAt: string;
  status: ImageStatus;
  stats: { min: number; max: number; p0_01: number; p99_99: number };
  prediction: Prediction | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Bundle {
  name: string;
  images: number;
  labeled: number;
  resolved: number;
  normal: number;
  abnormal: number;
  agreement?: number | null;
}

export interface DatasetStats {
  globalMin: number;
  globalMax: number;
  histogram: { binEdges: number[]; counts: number[] };
}

export interface VoteInput {
  verdict: Verdict;
  anomalies: AnomalyCode[];
  comment?: string;
  modelHintShown?: boolean;
}

export interface MyVote {
  imageId: string;
  verdict: Verdict;
  anomalies: AnomalyCode[];
  comment: string | null;
  createdAt: string;
}

/** A user as the API refers to one: a name, or `{id, username}`. */
export type UserRef = string | { id: string; username: string };

/** The name to show for a user reference. */
export function nameOf(u: UserRef | null | undefined): string {
  return u == null ? '—' : typeof u === 'string' ? u : u.username;
}

export interface Vote {
  user: UserRef;
  verdict: Verdict;
  anomalies: AnomalyCode[];
  comment: string | null;
  createdAt: string;
  modelHintShown?: boolean;
}

export interface Consensus {
  status: 'pending' | 'needs_lead' | 'resolved' | 'unlabeled';
  verdict: Verdict | null;
  anomalies: AnomalyCode[];
  method: 'unanimous' | 'majority' | 'lead' | null;
  counts: { normal: number; abnormal: number };
  resolvedBy?: UserRef | null;
  reason?: string | null;
  resolvedAt?: string | null;
  /** Dawid–Skene posterior P(abnormal), when the server reports it. */
  dawidSkene?: { pAbnormal: number } | number | null;
  posterior?: number | null;
}

export interface ReviewItem {
  /** At least id, bundle and name; the page fetches the full image (stats) before viewing it. */
  image: Pick<ImageDto, 'id' | 'bundle' | 'name'> & Partial<ImageDto>;
  /** Why the image is in the queue (one entry per reason). */
  reasons?: { code: string; detail: string }[];
  reason?: string;
  votes: Vote[];
  consensus?: Consensus;
  dawidSkene?: { pAbnormal: number } | null;
  prediction?: Prediction | null;
}

export interface Agreement {
  images: number;
  votes: number;
  fleissKappa: number | null;
  krippendorffAlpha: number | null;
  perExpert: {
    user: string;
    votes: number;
    agreementWithConsensus: number | null;
    cohenKappaWithConsensus: number | null;
  }[];
  perAnomaly: { code: AnomalyCode; fleissKappa: number | null }[];
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  balancedAccuracy: number | null;
}

export interface ModelVersion {
  version: string | number;
  createdAt: string;
  method: 1 | 2 | 3 | 4;
  active: boolean;
  trainedOn: { images: number; bundles: number };
  crossValidation: { perBundle: (Confusion & { bundle: string })[]; overall: Confusion } | null;
}

export interface Job {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: number;
  message: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: string | null;
}

export type Settings = Record<string, unknown>;
