/**
 * Execution provider selection: `PLATINA_EP=cpu|webgpu|cuda`, default best available.
 *
 * "Available" is decided by trying: a provider counts only if a one-node session actually opens
 * with it (the CUDA provider needs its shared libraries, which `npm ci` does not download here;
 * WebGPU needs a Vulkan adapter). Probing costs ~0.1 s and happens once per process.
 * An explicit `PLATINA_EP` that cannot open is an error, not a silent fallback: a user who asked
 * for a GPU should learn that they are not getting one.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { GraphBuilder } from './graph.ts';

export type EpName = 'cpu' | 'webgpu' | 'cuda';
export const EP_NAMES: readonly EpName[] = ['cpu', 'webgpu', 'cuda'];
/** Preference order for "best available". */
const PREFERENCE: readonly EpName[] = ['cuda', 'webgpu', 'cpu'];

export interface EpChoice {
  name: EpName;
  /** Pass as `executionProviders` to `InferenceSession.create`. */
  executionProviders: InferenceSession.ExecutionProviderConfig[];
  /** Why this provider was chosen (for logs and the API's runner status). */
  reason: string;
}

type Log = (message: string) => void;

let probeModel: Uint8Array | undefined;
const probed = new Map<EpName, Promise<string | undefined>>();

/** Whether onnxruntime-node's CUDA provider library sits beside its binding (it is a separate download). */
export function cudaProviderInstalled(): boolean {
  const index = createRequire(import.meta.url).resolve('onnxruntime-node');
  const bin = path.join(path.dirname(index), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(
    path.join(
      bin,
      process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so',
    ),
  );
}

/** Resolves to undefined when `ep` can open a session here, else to the runtime's error message. */
export function probeExecutionProvider(ep: EpName): Promise<string | undefined> {
  let p = probed.get(ep);
  if (!p) {
    p = (async () => {
      // Without its provider library (npm ci skips the CUDA download), opening a CUDA session cannot work, and
      // onnxruntime would print a red load error to stderr on every start whatever the log level: say why instead.
      if (ep === 'cuda' && !cudaProviderInstalled()) return 'the CUDA provider library is not installed';
      if (!probeModel) {
        const g = new GraphBuilder('probe');
        g.op('Relu', [g.input('x', 'float32', [1])], {}, { output: 'y' });
        g.output('y', 'float32', [1]);
        probeModel = g.toBytes();
      }
      try {
        const session = await ort.InferenceSession.create(probeModel, {
          executionProviders: [ep],
          logSeverityLevel: 4, // the failure is reported by us, once
        });
        await session.release();
        return undefined;
      } catch (err) {
        return (err as Error).message.split('\n')[0];
      }
    })();
    probed.set(ep, p);
  }
  return p;
}

/**
 * Picks the execution provider from `PLATINA_EP` (cpu | webgpu | cuda) or, when unset, the best
 * one that opens here, logging each fallback. Throws when PLATINA_EP names an unknown provider or
 * one that cannot open.
 */
export async function selectExecutionProvider(
  env: NodeJS.ProcessEnv = process.env,
  log: Log = (m) => console.warn(m),
): Promise<EpChoice> {
  const requested = env.PLATINA_EP?.trim().toLowerCase();
  if (requested) {
    if (!(EP_NAMES as readonly string[]).includes(requested)) {
      throw new Error(`PLATINA_EP=${env.PLATINA_EP} is not one of ${EP_NAMES.join(', ')}`);
    }
    const ep = requested as EpName;
    const error = ep === 'cpu' ? undefined : await probeExecutionProvider(ep);
    if (error) throw new Error(`PLATINA_EP=${ep}: the ${ep} execution provider cannot start here: ${error}`);
    return { name: ep, executionProviders: [ep], reason: `PLATINA_EP=${ep}` };
  }
  for (const ep of PREFERENCE) {
    if (ep === 'cpu') break;
    const error = await probeExecutionProvider(ep);
    if (!error)
      return { name: ep, executionProviders: [ep], reason: `${ep} is available (PLATINA_EP unset)` };
    log(`execution provider ${ep} unavailable (${error}); trying the next`);
  }
  log('using the cpu execution provider (no GPU provider available; set PLATINA_EP to choose)');
  return { name: 'cpu', executionProviders: ['cpu'], reason: 'no GPU provider available' };
}
