/**
 * The simulated panel for the replay, drawn in advance: for every image, the order in which distinct experts
 * are asked and each one's verdict. Every ordering therefore sees the same answers for an image; only WHICH
 * images are asked (and when) differs.
 */
import type { Verdict } from '../../lib/consensus/rule.ts';
import { Rng } from '../../lib/synth/random.ts';
import type { ReplayVote, VoteSource } from './replay.ts';

/** One simulated expert: a deterministic verdict on image `image` (its own randomness is seeded per image). */
export interface PanelExpert {
  id: string;
  verdict(image: number): Verdict;
}

export interface PreDrawnPanel extends VoteSource {
  /** Votes drawn per image (the most any image can receive). */
  readonly depth: number;
}

/**
 * @param images how many images
 * @param experts the panel (at least `depth` experts)
 * @param depth votes to draw per image: the consensus settings' votesMax
 * @param lead the lead's decision on tied images (costs one label)
 */
export function preDrawPanel(
  images: number,
  experts: readonly PanelExpert[],
  depth: number,
  seed: number,
  lead: (image: number) => Verdict,
): PreDrawnPanel {
  if (experts.length < depth)
    throw new Error(`${depth} votes per image need ${depth} experts, got ${experts.length}`);
  const drawn: ReplayVote[][] = [];
  for (let i = 0; i < images; i++) {
    const order = Rng.at(seed, 'active-panel', 'order', i).shuffle(experts.map((_, e) => e));
    drawn.push(
      order.slice(0, depth).map((e) => ({
        expert: experts[e].id,
        verdict: experts[e].verdict(i),
      })),
    );
  }
  return {
    depth,
    vote(image, k) {
      const v = drawn[image][k];
      if (!v) throw new Error(`image ${image} has no vote ${k}: the panel draws ${depth}`);
      return v;
    },
    lead,
  };
}
