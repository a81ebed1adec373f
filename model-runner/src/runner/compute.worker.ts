/**
 * The model runner's compute thread (started by `compute.ts`). onnxruntime-node runs a session on the
 * calling thread and blocks it for the whole run (measured: a 4.9 s backbone run let no timer fire), so
 * the backbone, the head's training steps and scoring all run here, never on the event loop that also
 * serves the API inside `npm start`. Preprocessing (decode, convert, resize) runs in this thread too.
 */
import { parentPort } from 'node:worker_threads';
import { collectTransferables, serializeError } from '../../../lib/imaging/worker-pool.ts';
import { extractFcWeights, loadBackbone, type Backbone } from '../backbone/load.ts';
import { trainAndCrossValidate, type CrossValidateInput } from '../cv/cross-validate.ts';
import type { EmbeddingKey, EmbeddingStore } from '../embeddings/cache.ts';
import { Embedder, type EmbedItem } from '../embeddings/embedder.ts';
import { mergeClassifier } from '../export/merge.ts';
import { unusualness, type UnusualnessInput } from '../evidence/unusualness.ts';
import { scoreImages, type EmbeddingTable } from '../head/train.ts';
import { scoreAnomalies } from '../head/multilabel.ts';
import type { HeadParams } from '../head/params.ts';
import { selectExecutionProvider } from '../onnx/ep.ts';
import type { ComputeRequest, ComputeResponse } from './compute.ts';

/** The caller owns the cache (the `embeddings` table); this thread only computes. */
const noStore: EmbeddingStore = {
  get: async (_key: EmbeddingKey) => undefined,
  put: async () => {},
};

/** One backbone per configuration: building the untrained ResNet-34 costs about a CPU-minute. */
const backbones = new Map<string, Promise<Backbone>>();
function backboneFor(env: NodeJS.ProcessEnv): Promise<Backbone> {
  const key = JSON.stringify([env.PLATINA_BACKBONE, env.PLATINA_BACKBONE_SEED]);
  let b = backbones.get(key);
  if (!b) {
    b = loadBackbone(env);
    b.catch(() => backbones.delete(key));
    backbones.set(key, b);
  }
  return b;
}

const embedders = new Map<string, Promise<Embedder>>();
function embedderFor(
  env: NodeJS.ProcessEnv,
  inputSize: { height: number; width: number },
): Promise<Embedder> {
  const key = JSON.stringify([env.PLATINA_BACKBONE, env.PLATINA_BACKBONE_SEED, env.PLATINA_EP, inputSize]);
  let e = embedders.get(key);
  if (!e) {
    e = (async () =>
      Embedder.create({
        backbone: await backboneFor(env),
        ep: await selectExecutionProvider(env, () => {}),
        inputSize,
        store: noStore,
      }))();
    e.catch(() => embedders.delete(key));
    embedders.set(key, e);
  }
  return e;
}

export const computeTasks = {
  async backbone(input: { env: NodeJS.ProcessEnv }) {
    const b = await backboneFor(input.env);
    const ep = await selectExecutionProvider(input.env, () => {});
    return {
      hash: b.hash,
      untrained: b.untrained,
      description: b.description,
      ep: ep.name,
      epReason: ep.reason,
    };
  },

  /** The four flip embeddings (FLIPS order) of each item. */
  async embed(input: {
    env: NodeJS.ProcessEnv;
    inputSize: { height: number; width: number };
    items: EmbedItem[];
  }): Promise<Float32Array[][]> {
    const embedder = await embedderFor(input.env, input.inputSize);
    return embedder.embed(input.items);
  },

  /**
   * Paper 2.4: the head's first layer starts from the backbone's own fc (512→1000) when it has one
   * (a torchvision export); the untrained backbone's fc is random, so He init is used there instead.
   */
  async crossValidate(
    input: Omit<CrossValidateInput, 'onProgress'> & { env: NodeJS.ProcessEnv },
    progress: (p: number, message: string) => void,
  ) {
    const { env, ...cv } = input;
    const backbone = await backboneFor(env);
    const backboneFc = backbone.untrained ? null : (extractFcWeights(backbone.bytes) ?? null);
    return trainAndCrossValidate({ ...cv, training: { ...cv.training, backboneFc }, onProgress: progress });
  },

  async score(input: { head: HeadParams; table: EmbeddingTable }): Promise<Float32Array> {
    return scoreImages(input.head, input.table);
  },

  /** P(type) of every image of the table, [images × types] (head/multilabel.ts). */
  async scoreAnomalies(input: { head: HeadParams; table: EmbeddingTable }): Promise<Float32Array> {
    return scoreAnomalies(input.head, input.table);
  },

  /** The normal model over the evidence vectors and every image's unusualness (evidence/unusualness.ts). */
  async unusualness(input: UnusualnessInput) {
    return unusualness(input);
  },

  /**
   * The merged classifier (model-runner/src/export) for a head trained on `backboneHash`; a
   * BackboneMismatch error when this configuration's backbone is another one.
   */
  async exportClassifier(input: {
    env: NodeJS.ProcessEnv;
    head: HeadParams;
    backboneHash: string;
    metadata: Record<string, string>;
  }): Promise<Uint8Array> {
    const backbone = await backboneFor(input.env);
    if (backbone.hash !== input.backboneHash) {
      throw Object.assign(
        new Error(
          `the head was trained on backbone ${input.backboneHash.slice(0, 12)}; this configuration has ` +
            `${backbone.hash.slice(0, 12)} (${backbone.description}): set the same PLATINA_BACKBONE`,
        ),
        { name: 'BackboneMismatch' },
      );
    }
    return mergeClassifier({
      backbone: backbone.bytes,
      head: input.head,
      featureOutput: backbone.featuresName,
      metadata: input.metadata,
    });
  },
};
export type ComputeTasks = typeof computeTasks;

const port = parentPort;
if (port) {
  port.on('message', async (req: ComputeRequest) => {
    let response: ComputeResponse;
    let transfer: ArrayBuffer[] = [];
    try {
      const fn = computeTasks[req.task] as (
        input: unknown,
        progress: (p: number, m: string) => void,
      ) => unknown;
      if (!fn) throw new Error(`unknown compute task "${req.task}"`);
      const result = await fn(req.input, (p, message) =>
        port.postMessage({ id: req.id, progress: p, message }),
      );
      transfer = collectTransferables(result);
      response = { id: req.id, ok: true, result };
    } catch (err) {
      response = { id: req.id, ok: false, error: serializeError(err) };
    }
    port.postMessage(response, transfer);
  });
}
