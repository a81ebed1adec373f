/**
 * The evidence work that runs in the evidence worker pool (evidence-pool.ts): decode, then extract. Each worker
 * opens its own single-threaded onnxruntime CPU session of the scattering graph once, on first use: the pool's
 * parallelism is one image per core, which is what the speed target (150 ms an image on one core) is stated for.
 */
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import type { ImageSource } from '../../../lib/imaging/tasks.ts';
import { decodeTiff } from '../../../lib/imaging/tiff-decode.ts';
import { extractEvidence, type Evidence, type ScatteringRun } from './extract.ts';
import { buildScatteringModel } from './scattering.ts';

let session: Promise<ort.InferenceSession> | undefined;

/** The scattering graph on onnxruntime's CPU provider, one thread (the pool gives one image per core). */
export const cpuScattering: ScatteringRun = async (data, height, width) => {
  session ??= ort.InferenceSession.create(buildScatteringModel(), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const s = await session;
  const out = await s.run({ image: new ort.Tensor('float32', data, [1, 1, height, width]) });
  const [, , h, w] = out.s1.dims;
  return {
    s0: out.s0.data as Float32Array,
    s1: out.s1.data as Float32Array,
    s2: out.s2.data as Float32Array,
    h,
    w,
  };
};

export async function evidence(input: { source: ImageSource }): Promise<Evidence> {
  const bytes = 'path' in input.source ? await readFile(input.source.path) : input.source.bytes;
  return extractEvidence(await decodeTiff(bytes), cpuScattering);
}

export const evidenceTasks = { evidence };
export type EvidenceTasks = typeof evidenceTasks;
