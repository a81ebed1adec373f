/**
 * The backbone with the four flip variants made inside the graph: the caller uploads each
 * preprocessed image once, and the graph feeds the backbone [x, x flipped h, v, hv].
 *
 * Why: at the paper's 2000×1000 one image is a 24 MB float tensor. Flipping on the host meant four
 * copies made in JavaScript (~100 ms an image, on the thread that feeds the backbone) and 96 MB
 * sent to the GPU per image, at ~2 GB/s through onnxruntime-node's WebGPU provider (a device run
 * measured the copy at about a quarter of a run of four). In the graph a flip is a Slice with
 * step −1: an exact copy on the device, so the features are the same as flipping on the host.
 *
 * Layout of the output: the batch is [all N images unflipped, all N flipped h, … v, … hv] (FLIPS
 * order, then image order), so features row `f × N + k` is image k's flip f.
 */
import { MIN_BACKBONE_OPSET } from '../backbone/load.ts';
import { FLIPS, type Flip } from './cache.ts';
import { aiOnnxOpset, decodeModel, encodeModel, makeTensor, onnx, type NodeProto } from '../onnx/graph.ts';

/** The axes each flip reverses on an N×C×H×W tensor: 'h' mirrors the width, 'v' the height. */
const FLIP_AXES: Record<Flip, number[]> = { none: [], h: [3], v: [2], hv: [2, 3] };

/**
 * `bytes` (a backbone whose one image input is `inputName`) with the flips prepended. The input keeps
 * its name and shape; every output gains a 4× larger batch in the layout described above.
 */
export function withFlipVariants(bytes: Uint8Array, inputName: string): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const opset = aiOnnxOpset(model);
  if (opset < MIN_BACKBONE_OPSET)
    throw new Error(`flips in the graph need ai.onnx opset ≥ ${MIN_BACKBONE_OPSET}; the model has ${opset}`);
  const used = new Set<string>();
  for (const n of graph.node ?? []) for (const v of [...(n.input ?? []), ...(n.output ?? [])]) used.add(v);
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) used.add(v.name!);
  for (const t of graph.initializer ?? []) used.add(t.name!);
  const fresh = (base: string) => {
    let name = `platina_${base}`;
    for (let k = 1; used.has(name); k++) name = `platina_${base}_${k}`;
    used.add(name);
    return name;
  };

  // Everything that read the image now reads the four variants.
  const variants = fresh('flip_variants');
  for (const n of graph.node ?? []) n.input = (n.input ?? []).map((i) => (i === inputName ? variants : i));

  const int64s = (base: string, values: bigint[]) => {
    const name = fresh(base);
    graph.initializer!.push(makeTensor(name, 'int64', [values.length], BigInt64Array.from(values)));
    return name;
  };
  const INT64_MIN = -(2n ** 63n); // "past the start" for a reverse slice; clamped by the runtime
  const prepended: NodeProto[] = [];
  const parts = FLIPS.map((flip) => {
    const axes = FLIP_AXES[flip];
    if (axes.length === 0) return inputName;
    const out = fresh(`flip_${flip}`);
    prepended.push({
      opType: 'Slice',
      name: fresh(`slice_${flip}`),
      domain: '',
      input: [
        inputName,
        int64s(
          `flip_${flip}_starts`,
          axes.map(() => -1n),
        ),
        int64s(
          `flip_${flip}_ends`,
          axes.map(() => INT64_MIN),
        ),
        int64s(`flip_${flip}_axes`, axes.map(BigInt)),
        int64s(
          `flip_${flip}_steps`,
          axes.map(() => -1n),
        ),
      ],
      output: [out],
    });
    return out;
  });
  prepended.push({
    opType: 'Concat',
    name: fresh('concat_flips'),
    domain: '',
    input: parts,
    output: [variants],
    attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
  });
  graph.node = [...prepended.map((n) => onnx.NodeProto.create(n)), ...(graph.node ?? [])];
  return encodeModel(model);
}

/** Splits the graph's [4N, dim] features into each image's four vectors (FLIPS order). */
export function splitFlipFeatures(features: Float32Array, images: number): Float32Array[][] {
  const dim = features.length / (FLIPS.length * images);
  return Array.from({ length: images }, (_, k) =>
    FLIPS.map((_, f) => features.slice((f * images + k) * dim, (f * images + k + 1) * dim)),
  );
}
