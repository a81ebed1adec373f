import { z } from 'zod';
import type { Method } from '../domain.ts';

/**
 * The payload of every job kind, shared by whoever enqueues (the API, the runner's own scheduler) and the
 * worker that runs it: a payload is `unknown` when it comes out of the database, and the worker validates
 * it with the very schema the producer used.
 */
/** The conversion method used until a lead picks another: the paper's best overall (table 1: method 2, 85.18 %). */
export const DEFAULT_METHOD: Method = 2;

export const TrainPayload = z
  .object({
    /** Conversion method of paper section 2.3 (1 naive, 2 global, 3 local, 4 stacked). */
    method: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).default(DEFAULT_METHOD),
    /** Leave-one-bundle-out cross-validation stored with the version (paper 3.2). */
    crossValidate: z.boolean().default(true),
    /** Enqueued by the runner after `retrainEvery` new labels, not by a person. */
    auto: z.boolean().default(false),
    /** Activate even when the new version's balanced accuracy is worse than the active one's. */
    force: z.boolean().default(false),
    /** Head training epochs (the paper's 50 unless a test asks for fewer). */
    epochs: z.number().int().min(1).max(500).optional(),
    seed: z.number().int().min(0).default(0),
  })
  .strict();
export type TrainPayload = z.output<typeof TrainPayload>;

/** Score images with a model version (default: the active one) and store their priorities. */
export const ScorePayload = z
  .object({
    modelVersion: z
      .string()
      .regex(/^[1-9][0-9]*$/)
      .optional(),
    /** Only these images (an upload batch); all images when absent. */
    imageIds: z
      .array(z.string().regex(/^[1-9][0-9]*$/))
      .max(100_000)
      .optional(),
    /**
     * Activate the version once every image is scored, with this reason (set by the training that decided
     * it): the queue switches from the old version's priorities to the new one's in one step.
     */
    activate: z.string().min(1).max(500).optional(),
  })
  .strict();
export type ScorePayload = z.output<typeof ScorePayload>;

/** Embed new uploads (all four flip variants) with the active model's method, then score them. */
export const EmbedPayload = z
  .object({
    imageIds: z
      .array(z.string().regex(/^[1-9][0-9]*$/))
      .min(1)
      .max(100_000),
  })
  .strict();
export type EmbedPayload = z.output<typeof EmbedPayload>;

/**
 * Evidence (model-runner/src/evidence) of new uploads, then a refit of every image's unusualness: the part of
 * the loop that needs no label and no model (issue 13).
 */
export const EvidencePayload = z
  .object({
    imageIds: z
      .array(z.string().regex(/^[1-9][0-9]*$/))
      .min(1)
      .max(100_000),
  })
  .strict();
export type EvidencePayload = z.output<typeof EvidencePayload>;

/** Refit the normal model over the stored evidence and rescore every image's unusualness (labels changed). */
export const UnusualnessPayload = z.object({}).strict();
export type UnusualnessPayload = z.output<typeof UnusualnessPayload>;

export const JOB_PAYLOADS = {
  train: TrainPayload,
  score: ScorePayload,
  embed: EmbedPayload,
  evidence: EvidencePayload,
  unusualness: UnusualnessPayload,
} as const;
export type JobKind = keyof typeof JOB_PAYLOADS;
export const JOB_KINDS = Object.keys(JOB_PAYLOADS) as JobKind[];
export type PayloadOf<K extends JobKind> = z.output<(typeof JOB_PAYLOADS)[K]>;
export type PayloadInput<K extends JobKind> = z.input<(typeof JOB_PAYLOADS)[K]>;
