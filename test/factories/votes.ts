import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, Method, Role, StoredBounds, Verdict } from '../../lib/db/schema.ts';
import { recomputeAllConsensus } from '../../api/src/consensus/consensus.service.ts';
import { getSettings } from '../../api/src/settings/settings.service.ts';

let serial = 0;

/**
 * An image row as an upload of an electrode would store it (statistics of a typical plate), without the file:
 * for tests and benchmarks that need images in the database, not TIFF decoding.
 */
export function imageRow(bundleId: string, name: string, sha256: string) {
  return {
    bundle_id: bundleId,
    name,
    sha256,
    byte_size: 1000,
    width: 1145,
    height: 2072,
    bit_depth: 16 as const,
    px_min: 1700,
    px_max: 28000,
    p0_01: 1700,
    p99_99: 2800,
    histogram: [],
  };
}

/**
 * Test factory: `count` image rows in `bundle` (created when missing), written straight to the database
 * because voting tests need images, not TIFF decoding. Returns their ids, oldest first.
 */
export async function buildImages(
  db: Kysely<DB>,
  opts: { bundle?: string; count?: number } = {},
): Promise<string[]> {
  const bundle = opts.bundle ?? 'B1';
  const count = opts.count ?? 1;
  await db
    .insertInto('bundles')
    .values({ name: bundle })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const { id: bundleId } = await db
    .selectFrom('bundles')
    .select('id')
    .where('name', '=', bundle)
    .executeTakeFirstOrThrow();
  const ids: string[] = [];
  for (let start = 0; start < count; start += 1000) {
    const rows = Array.from({ length: Math.min(1000, count - start) }, () => {
      const n = ++serial;
      return imageRow(
        bundleId,
        `${bundle}-${n}.tif`,
        createHash('sha256').update(`${process.pid}:${Date.now()}:${n}`).digest('hex'),
      );
    });
    const inserted = await db.insertInto('images').values(rows).returning('id').execute();
    ids.push(...inserted.map((r) => r.id));
  }
  return ids;
}

export interface FactoryUser {
  id: string;
  username: string;
  role: Role;
  token: string;
}

/**
 * Test and benchmark factory: `count` users of `role`, each with a live session token, written straight
 * to the database. Creating them through the API costs two argon2 runs each (seconds for 50 experts on
 * this machine); the session row is exactly what `POST /api/auth/login` stores (the token's SHA-256).
 * Their password hash is not a valid argon2 hash, so they cannot sign in with a password.
 */
export async function buildSignedInUsers(
  db: Kysely<DB>,
  role: Role,
  count: number,
  prefix: string = role,
): Promise<FactoryUser[]> {
  const tag = randomBytes(3).toString('hex');
  const users = await db
    .insertInto('users')
    .values(
      Array.from({ length: count }, (_, i) => ({
        username: `${prefix}-${tag}-${i}`,
        password_hash: '!',
        role,
      })),
    )
    .returning(['id', 'username'])
    .execute();
  const tokens = users.map(() => randomBytes(32).toString('base64url'));
  await db
    .insertInto('sessions')
    .values(
      users.map((u, i) => ({
        user_id: u.id,
        token_hash: createHash('sha256').update(tokens[i]).digest('hex'),
        expires_at: new Date(Date.now() + 24 * 3600_000),
      })),
    )
    .execute();
  return users.map((u, i) => ({ id: u.id, username: u.username, role, token: tokens[i] }));
}

/**
 * Test factory: an active model version with the given predictions (what the model runner writes),
 * for the queue's priority order and the review queue's model-contradiction section.
 */
export async function buildActiveModel(
  db: Kysely<DB>,
  predictions: { imageId: string; pAbnormal: number; priority?: number; reason?: string }[],
  opts: { method?: Method; globalBounds?: StoredBounds[] } = {},
): Promise<string> {
  const { id } = await db
    .insertInto('model_versions')
    .values({
      method: opts.method ?? 2,
      global_bounds: opts.globalBounds ? JSON.stringify(opts.globalBounds) : null,
      backbone_hash: 'test',
      backbone_kind: 'untrained',
      input_height: 2000,
      input_width: 1000,
      settings: '{}',
      label_snapshot_hash: 'test',
      trained_on_images: 0,
      trained_on_bundles: 0,
      head_weights: Buffer.alloc(0),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('model_activations').values({ model_version: id, reason: 'test' }).execute();
  if (predictions.length > 0) {
    await db
      .insertInto('predictions')
      .values(
        predictions.map((p) => ({
          model_version: id,
          image_id: p.imageId,
          p_abnormal: p.pAbnormal,
          priority: p.priority ?? 0,
          reason: p.reason ?? '',
        })),
      )
      .execute();
  }
  return id;
}

/**
 * Test factory: votes written straight to the database, then every image's consensus recomputed with the
 * current settings, exactly as the settings service does after a rule change. For tests that need many
 * votes as data (agreement, review queue), not the voting endpoint itself.
 */
export async function buildVotes(
  db: Kysely<DB>,
  votes: {
    imageId: string;
    userId: string;
    verdict: Verdict;
    anomalies?: string[];
    comment?: string;
    /** The types a model hint pre-selected (the vote then records a model hint). */
    anomalyHint?: string[];
  }[],
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (votes.length > 0) {
      await tx
        .insertInto('votes')
        .values(
          votes.map((v) => ({
            image_id: v.imageId,
            user_id: v.userId,
            verdict: v.verdict,
            anomalies: v.anomalies ?? [],
            comment: v.comment ?? null,
            model_hint_shown: v.anomalyHint !== undefined,
            anomaly_hint: v.anomalyHint ?? null,
          })),
        )
        .execute();
    }
    await recomputeAllConsensus(tx, await getSettings(tx));
  });
}
