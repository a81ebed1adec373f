import type { ImageRuleInputs, RuleInputs } from '../consensus/consensus.repository.ts';

/**
 * What this API process knows of the rule's inputs, so that a batch of votes can skip reading them: the
 * settings as last read, and per image the state its own last write left (the votes counted, the
 * resolution, the revision it wrote). An image it never wrote is presumed never voted on — the common
 * case, since the queue hands out fresh images first.
 *
 * Nothing here is trusted: the batch statement writes an image only if its revision and the settings are
 * still what this cache says (repo.insertVotesIfUnchanged), so a stale entry — another process voted, a
 * lead resolved, a presumption was wrong, the settings changed — costs one refused image that takes the
 * locked path, never a wrong label. A refusal forgets the image and the settings, so the next batch reads
 * afresh (a settings change cannot keep refusing every batch).
 */
export class RuleInputsCache {
  #settings: Pick<RuleInputs, 'settingsText' | 'settings'> | undefined;
  readonly #images = new Map<string, ImageRuleInputs>();
  readonly #capacity: number;

  constructor(capacity = 50_000) {
    this.#capacity = capacity;
  }

  /** The inputs to presume for these images, or undefined when the settings are unknown (read them). */
  presumed(imageIds: readonly string[]): RuleInputs | undefined {
    if (!this.#settings) return undefined;
    return {
      ...this.#settings,
      images: new Map(imageIds.map((id) => [id, this.#images.get(id) ?? NEVER_VOTED])),
    };
  }

  /** Inputs just read from the database. */
  learn(inputs: RuleInputs): void {
    this.#settings = { settingsText: inputs.settingsText, settings: inputs.settings };
    for (const [id, image] of inputs.images) this.wrote(id, image);
  }

  /** The state this process just wrote for an image. */
  wrote(imageId: string, image: ImageRuleInputs): void {
    this.#images.delete(imageId); // re-inserted last: the Map's order is the eviction order
    this.#images.set(imageId, image);
    if (this.#images.size > this.#capacity) this.#images.delete(this.#images.keys().next().value!);
  }

  /** The image was written another way (the locked path): what we knew of it is stale. */
  forget(imageId: string): void {
    this.#images.delete(imageId);
  }

  /** A write of this image was refused: what we knew of it, and of the settings, is stale. */
  refused(imageId: string): void {
    this.#images.delete(imageId);
    this.#settings = undefined;
  }
}

const NEVER_VOTED: ImageRuleInputs = { revision: null, votes: [], latest: undefined };
