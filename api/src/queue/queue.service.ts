import type { Transaction } from 'kysely';
import type { DB } from '../../../lib/db/schema.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { getSettings, type Settings } from '../settings/settings.service.ts';
import { getImage } from '../images/images.service.ts';
import * as repo from './queue.repository.ts';
import { activeModelVersion } from '../models/models.repository.ts';
import type { QueueImageDto, QueueStats } from '../../../lib/api-types/queue.ts';

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
  const model = await activeModelVersion(tx);
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
  return { ...(await getImage(services, user, claimed.id)), leaseExpiresInSeconds: repo.LEASE_MINUTES * 60 };
}

/** `GET /api/queue/stats`: what the expert did today and how much is left for them. */
export async function queueStats(services: Services, user: AuthUser): Promise<QueueStats> {
  const settings = await getSettings(services.db);
  return repo.progressFor(services.db, user.id, settings.votesRequired);
}
