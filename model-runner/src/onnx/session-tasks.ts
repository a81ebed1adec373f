/**
 * What the ONNX session worker does: open sessions, run them, release them. Tensors cross the
 * thread boundary as plain {type, data, dims} (typed arrays are transferred, not copied).
 */
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';

export interface PlainTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: readonly number[];
}

const sessions = new Map<number, ort.InferenceSession>();
let nextId = 1;

async function open(input: { bytes: Uint8Array; options: InferenceSession.SessionOptions }) {
  const session = await ort.InferenceSession.create(input.bytes, input.options);
  const id = nextId++;
  sessions.set(id, session);
  return { id, inputNames: [...session.inputNames], outputNames: [...session.outputNames] };
}

async function run(input: { id: number; feeds: Record<string, PlainTensor>; fetches?: string[] }) {
  const session = sessions.get(input.id);
  if (!session) throw new Error(`session ${input.id} is not open in this worker`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(input.feeds))
    feeds[name] = new ort.Tensor(t.type, t.data as never, t.dims);
  const out = input.fetches ? await session.run(feeds, input.fetches) : await session.run(feeds);
  const result: Record<string, PlainTensor> = {};
  for (const [name, t] of Object.entries(out)) result[name] = { type: t.type, data: t.data, dims: t.dims };
  return result;
}

async function release(input: { id: number }) {
  await sessions.get(input.id)?.release();
  sessions.delete(input.id);
}

export const sessionTasks = { open, run, release };
export type SessionTasks = typeof sessionTasks;
