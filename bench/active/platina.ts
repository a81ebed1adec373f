/**
 * "Platina's order" for the replay. Until model-runner/src/priority lands, the stand-in formula of
 * platina-fallback.ts (issue 7's terms, documented there); the replay swaps in the runner's module when it exists.
 */
import { priorityOrdering } from './orders.ts';
import type { Ordering } from './replay.ts';
import { fallbackPriorities } from './platina-fallback.ts';

export const PLATINA_SOURCE =
  'bench/active/platina-fallback.ts (stand-in for model-runner/src/priority): pending images with votes first (split ones first), ' +
  'then unlabeled images by 0.7 × uncertainty + 0.3 × bundle starvation (coverage)';

export function platinaOrdering(images: number, seed: number): Ordering {
  return priorityOrdering('platina', images, seed, (view) => fallbackPriorities(view));
}
