import { gatherVariant, predictHead, trainHead } from '../head/train.ts';
import type { EmbeddingTable, TrainHeadOptions } from '../head/train.ts';
import type { HeadParams } from '../head/params.ts';
import { scoreAnomalies, trainAnomalyHead, type AnomalyLabels } from '../head/multilabel.ts';

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
  /** Also train the anomaly-type head (multilabel.ts) on the same split and score the test images with it. */
  anomalies?: AnomalyLabels;
}

export interface FoldOutcome {
  pAbnormal: number[];
  trainingSeconds: number;
  params: HeadParams | null;
  /** [test × 11] type probabilities; null without `anomalies` or when no training image has known types. */
  pAnomalies: Float32Array | null;
  anomalyTrainingSeconds: number;
  anomalyParams: HeadParams | null;
}

export async function trainFold(task: FoldTask, onEpoch?: TrainHeadOptions['onEpoch']): Promise<FoldOutcome> {
  const t0 = performance.now();
  const { params } = await trainHead(task.table, task.labels, task.train, { ...task.options, onEpoch });
  const trainingSeconds = (performance.now() - t0) / 1000;
  const p =
    task.test.length > 0
      ? await predictHead(params, gatherVariant(task.table, task.test))
      : new Float32Array(0);
  const t1 = performance.now();
  // The type head has its own shape and no class weights or backbone fc; it shares the schedule and seed.
  const { classWeights: _w, backboneFc: _fc, dims: _d, ...schedule } = task.options;
  const anomalyHead = task.anomalies
    ? await trainAnomalyHead(task.table, task.anomalies, task.train, schedule)
    : null;
  const anomalyTrainingSeconds = (performance.now() - t1) / 1000;
  const pAnomalies =
    anomalyHead && task.test.length > 0
      ? await scoreAnomalies(anomalyHead.params, task.table, task.test)
      : null;
  return {
    pAbnormal: task.test.map((_, k) => p[2 * k + 1]),
    trainingSeconds,
    params: task.keepParams ? params : null,
    pAnomalies,
    anomalyTrainingSeconds,
    anomalyParams: task.keepParams ? (anomalyHead?.params ?? null) : null,
  };
}

/** The fold worker's task table (see fold.worker.ts). */
export const foldTasks = { trainFold: (task: FoldTask) => trainFold(task) };
export type FoldTasks = typeof foldTasks;
