import { gatherVariant, predictHead, trainHead } from '../head/train.ts';
import type { EmbeddingTable, TrainHeadOptions } from '../head/train.ts';
import type { HeadParams } from '../head/params.ts';

/** One training of the head and the scoring of held-out images: the unit a fold worker runs. */
export interface FoldTask {
  table: EmbeddingTable;
  labels: Uint8Array;
  train: number[];
  /** Held-out images to score (unflipped); may be empty (the final model). */
  test: number[];
  options: Omit<TrainHeadOptions, 'onEpoch'>;
  /** Return the trained parameters too (the final model). */
  keepParams?: boolean;
}

export interface FoldOutcome {
  pAbnormal: number[];
  trainingSeconds: number;
  params: HeadParams | null;
}

export async function trainFold(task: FoldTask, onEpoch?: TrainHeadOptions['onEpoch']): Promise<FoldOutcome> {
  const t0 = performance.now();
  const { params } = await trainHead(task.table, task.labels, task.train, { ...task.options, onEpoch });
  const trainingSeconds = (performance.now() - t0) / 1000;
  const p =
    task.test.length > 0
      ? await predictHead(params, gatherVariant(task.table, task.test))
      : new Float32Array(0);
  return {
    pAbnormal: task.test.map((_, k) => p[2 * k + 1]),
    trainingSeconds,
    params: task.keepParams ? params : null,
  };
}

/** The fold worker's task table (see fold.worker.ts). */
export const foldTasks = { trainFold: (task: FoldTask) => trainFold(task) };
export type FoldTasks = typeof foldTasks;
