import { sql } from 'kysely';
import type { Exec } from '../../../lib/db/schema.ts';
import type { UpcomingImage, UpcomingQueue, UpcomingSource } from '../../../lib/api-types/queue.ts';
import { activeModelVersion } from '../models/models.repository.ts';

/**
 * The lead's view of the queue (issue 13: "priorities with reasons before any training"): the next `limit`
 * images in the order the queue offers them to an expert who has voted on none of them and holds no lease —
 * the orderings of queue.service `offerOrder`, each with its reason. Leases and the asking expert's own votes
 * are left out on purpose: this shows the order of the work, not one expert's next image. Not a hot path (a
 * lead opens it), so each ordering is its own plain query.
 */
export async function upcomingQueue(db: Exec, limit: number): Promise<UpcomingQueue> {
  const modelVersion = await activeModelVersion(db);
  // Open for a new vote: not excluded, not decided (no consensus row, unlabeled or pending).
  const open = sql<boolean>`(not i.excluded and (c.image_id is null or c.status in ('unlabeled', 'pending')))`;
  type Row = { id: string; bundle: string; name: string; score: number | null; reason: string };
  const base = () =>
    db
      .selectFrom('images as i')
      .innerJoin('bundles as b', 'b.id', 'i.bundle_id')
      .leftJoin('image_consensus as c', 'c.image_id', 'i.id')
      .where(open);

  const byModel: Row[] = modelVersion
    ? await base()
        .innerJoin('predictions as p', (j) =>
          j.onRef('p.image_id', '=', 'i.id').on('p.model_version', '=', modelVersion),
        )
        .select(['i.id', 'b.name as bundle', 'i.name', 'p.priority as score', 'p.reason'])
        .orderBy('p.priority', 'desc')
        .orderBy('i.id')
        .limit(limit)
        .execute()
    : [];

  const started: Row[] = (
    await base()
      .where('c.status', '=', 'pending')
      .select(['i.id', 'b.name as bundle', 'i.name', 'c.normal_votes', 'c.abnormal_votes', 'c.votes_needed'])
      .orderBy('i.id')
      .limit(limit)
      .execute()
  ).map((r) => ({
    id: r.id,
    bundle: r.bundle,
    name: r.name,
    score: null,
    reason: `started: ${votes(r.normal_votes! + r.abnormal_votes!)} so far, needs ${votes(r.votes_needed!)} more`,
  }));

  // Before the first model only, as the queue: afterwards unusualness is one term of the model's priority.
  const byUnusualness: Row[] = modelVersion
    ? []
    : await base()
        .innerJoin('image_unusualness as u', 'u.image_id', 'i.id')
        .where('i.fresh', '=', true)
        .select(['i.id', 'b.name as bundle', 'i.name', 'u.score', 'u.reason'])
        .orderBy('u.score', 'desc')
        .orderBy('i.id')
        .limit(limit)
        .execute();

  // Bundles in turn: the distance from the bundle's first image, as the queue's round-robin measures it.
  const fresh: Row[] = (
    await base()
      .where('i.fresh', '=', true)
      .select(['i.id', 'b.name as bundle', 'i.name'])
      .orderBy(sql`i.id - (select min(f.id) from images f where f.bundle_id = i.bundle_id)`)
      .orderBy('i.id')
      .limit(limit)
      .execute()
  ).map((r) => ({ ...r, score: null, reason: 'no votes yet and no score: bundles take turns' }));

  const orderings: [UpcomingSource, Row[]][] = [
    ['model', byModel],
    ['started', started],
    ['unusualness', byUnusualness],
    ['fresh', fresh],
  ];
  const seen = new Set<string>();
  const items: UpcomingImage[] = [];
  for (const [source, rows] of orderings)
    for (const r of rows) {
      if (items.length === limit) break;
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      items.push({
        image: { id: r.id, bundle: r.bundle, name: r.name },
        source,
        score: r.score === null ? null : Number(r.score),
        reason: r.reason,
      });
    }
  return { modelVersion, items };
}

const votes = (n: number) => `${n} vote${n === 1 ? '' : 's'}`;
