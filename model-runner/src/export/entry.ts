import { ComputeThread } from '../runner/compute.ts';
import type { HeadParams } from '../../../lib/model/head.ts';

/**
 * The runner's entry point for the ONNX export (`GET /api/models/:version/onnx`): backbone and a stored head merged
 * into one classifier (merge.ts), built on a compute thread of its own — building and merging ResNet-34 would block
 * the caller's event loop. The API calls this and nothing else of the runner's internals; `closeExporter()` ends the
 * thread (the API's shutdown).
 */
export interface ExportRequest {
  /** The backbone configuration (PLATINA_BACKBONE …): the export uses this process's backbone. */
  env: NodeJS.ProcessEnv;
  head: HeadParams;
  /** The backbone the head was trained on; another configured backbone → BackboneMismatchError. */
  backboneHash: string;
  metadata: Record<string, string>;
}

/** The configured backbone is not the one the head was trained on: merging would pair the head with wrong features. */
export class BackboneMismatchError extends Error {
  override readonly name = 'BackboneMismatch';
}

let thread: ComputeThread | null = null;

export async function exportClassifier(request: ExportRequest): Promise<Uint8Array> {
  thread ??= new ComputeThread();
  try {
    return await thread.run('exportClassifier', request);
  } catch (err) {
    // Errors cross the thread as plain objects with their name: give the caller a type to test.
    if ((err as Error).name === 'BackboneMismatch') throw new BackboneMismatchError((err as Error).message);
    throw err;
  }
}

export async function closeExporter(): Promise<void> {
  const t = thread;
  thread = null;
  await t?.terminate();
}
