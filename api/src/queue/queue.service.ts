import type { Transaction } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { getSettings, type Settings } from '../settings/settings.service.ts';
import * as repo from './queue.repository.ts';

/** The contract's image object. `status` is never a decided one here: the queue hands out open images only. */
export interface QueueImageDto {
  id: string;
  bundle: string;
  name: string;
  width: number;
  height: number;
  bitDepth: number;
  sha256: string;
  createdAt: string;
  status: string;
  stats: { min: number; max: number; p0_01: number; p99_99: number };
  /** Only when the `showModelHint` setting allows it: votes are blind to the model otherwise. */
  prediction: { modelVersion: string; pAbnormal: number } | null;
  leaseExpiresInSeconds: number;
}

/**
 * The next image for an expert, or null when none is open for them. In one transaction: their own live
 * lease first (a reload must not skip an image); otherwise the first claimable candidate of, in turn,
 * the model's priority order, started images, fresh images spread across bundles — first among images
 * nobody else holds a lease on, then among those with fewer leases than votes they still need. A claim
 * locks the image row with SKIP LOCKED and re-checks, so two experts asking at the same moment get
 * different images whenever enough are open, and no image goes out more often than it needs votes.
 */
const CLAIM_ROUNDS = 5;

async function claimNext(
  tx: Transaction<DB>,
  user: AuthUser,
  exclude: ReadonlySet<string>,
): Promise<{ claimed: { id: string; settings: Settings } | null; sawLocked: boolean }> {
  const settings = await getSettings(tx);
  const required = settings.votesRequired;
  let sawLocked = false;
  const claim = async (id: string, sharing: repo.Sharing) => {
    if (exclude.has(id)) return false;
    const outcome = await repo.tryClaim(tx, id, user.id, required, sharing);
    if (outcome === 'locked') sawLocked = true;
    if (outcome !== 'claimed') return false;
    await repo.takeLease(tx, id, user.id);
    return true;
  };
  const own = await repo.ownLease(tx, user.id, required);
  if (own && (await claim(own, 'shared'))) return { claimed: { id: own, settings }, sawLocked };
  const model = await repo.activeModelVersion(tx);
  for (const sharing of ['exclusive', 'shared'] as const) {
    const orderings = [
      ...(model ? [() => repo.byModelPriority(tx, user.id, required, sharing, model)] : []),
      () => repo.startedImages(tx, user.id, required, sharing),
      () => repo.freshImagesAcrossBundles(tx, user.id, required, sharing),
    ];
    for (const candidates of orderings) {
      for (const id of await candidates()) {
        if (await claim(id, sharing)) return { claimed: { id, settings }, sawLocked };
      }
    }
  }
  return { claimed: null, sawLocked };
}

export async function nextImage(
  services: Services,
  user: AuthUser,
  /** Images the client already holds (prefetch): never handed out again by this call. */
  exclude: ReadonlySet<string> = new Set(),
): Promise<QueueImageDto | null> {
  let claimed: { id: string; settings: Settings } | null = null;
  // A round ends without a claim either because nothing is open (204) or because every candidate was
  // locked by a concurrent claim or vote at that instant; only the latter is worth another round.
  for (let round = 0; round < CLAIM_ROUNDS && !claimed; round++) {
    const attempt = await services.db.transaction().execute((tx) => claimNext(tx, user, exclude));
    claimed = attempt.claimed;
    if (!attempt.sawLocked) break;
  }
  if (!claimed) return null;
  const row = await repo.imageForQueue(services.db, claimed.id);
  const model = claimed.settings.showModelHint ? await repo.activeModelVersion(services.db) : null;
  const prediction = model ? await repo.predictionOf(services.db, claimed.id, model) : undefined;
  return {
    id: row.id,
    bundle: row.bundle,
    name: row.name,
    width: row.width,
    height: row.height,
    bitDepth: row.bit_depth,
    sha256: row.sha256,
    createdAt: row.created_at.toISOString(),
    status: row.status === 'pending' ? 'pending' : 'unlabeled',
    stats: { min: row.px_min, max: row.px_max, p0_01: row.p0_01, p99_99: row.p99_99 },
    prediction: prediction
      ? { modelVersion: prediction.model_version, pAbnormal: prediction.p_abnormal }
      : null,
    leaseExpiresInSeconds: repo.LEASE_MINUTES * 60,
  };
}
