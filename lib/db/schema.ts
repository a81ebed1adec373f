import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';

/**
 * The database as Kysely sees it: one interface per table, mirroring `migrations/`.
 * int8 columns come back from pg as strings, which is also how the API spells ids.
 */
type Id = Generated<string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

// The vocabulary is lib/domain.ts's; re-exported for the data layer's modules.
import type { ConsensusMethod, ImageStatus, JobStatus, Method, Role, Verdict } from '../domain.ts';
export type { ConsensusMethod, ImageStatus, JobStatus, Method, Role, Verdict } from '../domain.ts';
export { ROLES } from '../domain.ts';

export interface UsersTable {
  id: Id;
  username: string;
  password_hash: string;
  role: Role;
  disabled_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface SessionsTable {
  id: Id;
  user_id: string;
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface BundlesTable {
  id: Id;
  name: string;
  created_at: CreatedAt;
}

export interface ImagesTable {
  id: Id;
  bundle_id: string;
  name: string;
  sha256: string;
  byte_size: ColumnType<string, number | string, never>;
  width: number;
  height: number;
  bit_depth: 8 | 16;
  px_min: number;
  px_max: number;
  p0_01: number;
  p99_99: number;
  histogram: number[];
  /** No votes and no lead decision yet (consensus unlabeled or none); kept by a trigger (migration 0800). */
  fresh: Generated<boolean>;
  /** Excluded by a lead or admin: the latest image_exclusions row says so; kept by a trigger (migration 2026-12-04T1700). */
  excluded: ColumnType<boolean, never, never>;
  created_at: CreatedAt;
}

export interface AnomalyTypesTable {
  code: string;
  name: string;
  position: number;
}

/** Append-only (a trigger refuses UPDATE/DELETE). */
export interface VotesTable {
  id: Id;
  image_id: string;
  user_id: string;
  verdict: Verdict;
  anomalies: ColumnType<string[], string[] | undefined, never>;
  comment: string | null;
  model_hint_shown: ColumnType<boolean, boolean | undefined, never>;
  /** Codes the model's type hint pre-selected; null: no type hint shown (migration 2026-11-27T0700). */
  anomaly_hint: ColumnType<string[] | null, string[] | null | undefined, never>;
  created_at: CreatedAt;
}

/** Append-only. `withdraw` returns the image to the vote rule (DELETE /resolution). */
export interface ResolutionsTable {
  id: Id;
  image_id: string;
  user_id: string;
  action: 'resolve' | 'withdraw';
  verdict: Verdict | null;
  anomalies: ColumnType<string[], string[] | undefined, never>;
  reason: string | null;
  created_at: CreatedAt;
}

/** Derived: recomputed in the transaction of every vote or resolution of the image. */
export interface ImageConsensusTable {
  image_id: string;
  status: ImageStatus;
  verdict: Verdict | null;
  anomalies: ColumnType<string[], string[] | undefined, string[]>;
  method: ConsensusMethod | null;
  normal_votes: Generated<number>;
  abnormal_votes: Generated<number>;
  votes_needed: Generated<number>;
  resolved_by: string | null;
  reason: string | null;
  resolved_at: Timestamp | null;
  updated_at: Timestamp;
  /** Bumped by every write of the row: the optimistic vote's check (migrations/…T0600). */
  revision: Generated<string>;
}

export interface QueueLeasesTable {
  image_id: string;
  user_id: string;
  expires_at: Timestamp;
}

export interface SettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: Timestamp;
  updated_by: string | null;
}

export interface JobsTable {
  id: Id;
  kind: string;
  payload: ColumnType<unknown, string | undefined, string>;
  status: Generated<JobStatus>;
  progress: Generated<number>;
  message: Generated<string>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  run_at: Timestamp;
  locked_by: string | null;
  locked_at: Timestamp | null;
  last_error: string | null;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  created_by: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** Deduplication key: at most one queued job per key (migration 2026-11-27T0300). */
  key: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Append-only: a trained model never changes; activation is a separate fact. */
export interface ModelVersionsTable {
  id: Id;
  created_at: CreatedAt;
  method: Method;
  backbone_hash: string;
  backbone_kind: 'torchvision' | 'untrained' | 'custom';
  input_height: number;
  input_width: number;
  settings: ColumnType<unknown, string, never>;
  label_snapshot_hash: string;
  trained_on_images: number;
  trained_on_bundles: number;
  cross_validation: ColumnType<unknown, string | null, never>;
  head_weights: ColumnType<Buffer, Buffer, never>;
  job_id: string | null;
  /** What the head saw: 'paper' | 'evidence' | 'fused' (migration 2026-12-04T1600). */
  features: Generated<string>;
  /** The evidence definition (EVIDENCE_VERSION) for 'evidence' and 'fused'; null for 'paper'. */
  evidence_version: string | null;
  /**
   * Method 2's bounds in force when the version was trained, per bit depth (migration 2026-12-04T1700); null for
   * versions trained before they were recorded.
   */
  global_bounds: ColumnType<StoredBounds[] | null, string | null | undefined, never>;
}

/** One bit depth's method-2 bounds as a model version records them. */
export interface StoredBounds {
  bitDepth: 8 | 16;
  lo: number;
  hi: number;
  pinned: boolean;
}

export interface ModelActivationsTable {
  id: Id;
  model_version: string;
  activated_by: string | null;
  reason: string;
  created_at: CreatedAt;
}

export interface PredictionsTable {
  model_version: string;
  image_id: string;
  p_abnormal: number;
  anomalies: ColumnType<unknown, string | undefined, string>;
  priority: Generated<number>;
  reason: Generated<string>;
  created_at: CreatedAt;
}

export interface EmbeddingsTable {
  sha256: string;
  backbone_hash: string;
  input_size: string;
  method: Method;
  flip: 0 | 1 | 2 | 3;
  /** Method 2/4 global bounds 'g<lo>-<hi>', '' otherwise (migration 2026-11-27T0300). */
  bounds: Generated<string>;
  vector: Buffer;
  created_at: CreatedAt;
}

/** One evidence vector and heatmap per image file and evidence definition (migration 2026-12-04T1600). */
export interface ImageEvidenceTable {
  sha256: string;
  version: string;
  /** float32 little-endian values (the definition's names live with the code, extract.ts). */
  vector: Buffer;
  /** float32 little-endian, heatmap_width × heatmap_height, row-major, noise units. */
  heatmap: Buffer;
  heatmap_width: number;
  heatmap_height: number;
  created_at: CreatedAt;
}

/** Append-only: each exclusion and restoration of an image, who and why (migration 2026-12-04T1700). */
export interface ImageExclusionsTable {
  id: Id;
  image_id: string;
  user_id: string;
  action: 'exclude' | 'restore';
  /** Required when excluding; optional when restoring. */
  reason: string | null;
  created_at: CreatedAt;
}

/** Marking and unmarking reference images (append-only; migrations/…T1810). A mark fixes the answer. */
export interface ReferenceMarksTable {
  id: Id;
  image_id: string;
  user_id: string;
  action: 'mark' | 'unmark';
  /** The answer a mark fixes (the consensus then); null for an unmark. */
  verdict: Verdict | null;
  anomalies: Generated<string[]>;
  created_at: CreatedAt;
}

/** A reference the queue handed to an expert, not yet answered (soft state, like a lease). */
export interface ReferenceOffersTable {
  image_id: string;
  user_id: string;
  offered_at: Timestamp;
}

/** An expert's answer on a reference image, with the answer in force then (append-only; never a vote). */
export interface ReferenceAnswersTable {
  id: Id;
  image_id: string;
  user_id: string;
  verdict: Verdict;
  anomalies: Generated<string[]>;
  expected_verdict: Verdict;
  created_at: CreatedAt;
}

/** Current unusualness of each image (derived; replaced on each refit). */
export interface ImageUnusualnessTable {
  image_id: string;
  version: string;
  score: number;
  bundle_percentile: number;
  reason: string;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** View `active_model` (migration 2026-12-04T1800): the latest activation; no row before the first model. */
export interface ActiveModelView {
  model_version: string;
  activated_by: string | null;
  reason: string;
  created_at: ColumnType<Date, never, never>;
}

/** View `current_votes` (migration 2026-12-04T1800): each voter's latest vote per image. Read-only. */
export type CurrentVotesView = {
  [K in keyof VotesTable]: ColumnType<Selectable<VotesTable>[K], never, never>;
};

export interface DB {
  active_model: ActiveModelView;
  current_votes: CurrentVotesView;
  users: UsersTable;
  sessions: SessionsTable;
  bundles: BundlesTable;
  images: ImagesTable;
  anomaly_types: AnomalyTypesTable;
  votes: VotesTable;
  resolutions: ResolutionsTable;
  image_consensus: ImageConsensusTable;
  queue_leases: QueueLeasesTable;
  settings: SettingsTable;
  jobs: JobsTable;
  model_versions: ModelVersionsTable;
  model_activations: ModelActivationsTable;
  predictions: PredictionsTable;
  embeddings: EmbeddingsTable;
  image_evidence: ImageEvidenceTable;
  image_unusualness: ImageUnusualnessTable;
  image_exclusions: ImageExclusionsTable;
  reference_marks: ReferenceMarksTable;
  reference_offers: ReferenceOffersTable;
  reference_answers: ReferenceAnswersTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Image = Selectable<ImagesTable>;
export type NewImage = Insertable<ImagesTable>;
export type Vote = Selectable<VotesTable>;
export type Job = Selectable<JobsTable>;

/** What a repository function runs on: the database or a transaction of it (one home for this alias). */
export type Exec = Kysely<DB> | Transaction<DB>;
