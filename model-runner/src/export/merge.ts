import { decodeModel, encodeModel, modelMetadata, onnx } from '../onnx/graph.ts';
import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../onnx/graph.ts';
import type onnxProto from 'onnx-proto';
import { buildInferenceGraph, INFERENCE_INPUT, INFERENCE_OUTPUT } from '../head/graphs.ts';
import type { HeadParams } from '../head/params.ts';

/**
 * One ONNX classifier from the backbone and the trained head (issue step 7, `GET /api/models/:version/onnx`):
 * input `input` [N, 3, H, W] (the preprocessed image: converted, resized, ImageNet-normalised), output
 * `probabilities` [N, 2] (column 1 = abnormal). Runs anywhere ONNX Runtime does, without Platina.
 *
 * Every name of each part is prefixed (`backbone/`, `head/`) so the two graphs cannot clash; the head's input is
 * wired to the backbone's feature output; nodes and initializers that do not lead to the probabilities (the
 * backbone's own ImageNet fc) are pruned.
 */
export const MERGED_INPUT = 'input';
export const MERGED_OUTPUT = 'probabilities';

export interface MergeOptions {
  /** The backbone as ONNX bytes or a decoded model; must output `featureOutput` [N, 512]. */
  backbone: Uint8Array | ModelProto;
  head: HeadParams;
  /** The backbone's pooled-feature output (Platina's backbones call it `features`). */
  featureOutput?: string;
  /** Extra metadata; the backbone's metadata (e.g. `platina.backbone = untrained`) is kept. */
  metadata?: Record<string, string>;
}

type Graph = onnxProto.onnx.IGraphProto;

/** Copies a graph with every value and node name mapped through `rename`. */
function renameGraph(graph: Graph, rename: (name: string) => string): Graph {
  const value = (v: ValueInfoProto): ValueInfoProto => ({ ...v, name: rename(v.name ?? '') });
  return {
    ...graph,
    input: (graph.input ?? []).map(value),
    output: (graph.output ?? []).map(value),
    valueInfo: (graph.valueInfo ?? []).map(value),
    initializer: (graph.initializer ?? []).map((t): TensorProto => ({ ...t, name: rename(t.name ?? '') })),
    node: (graph.node ?? []).map((n): NodeProto => {
      if ((n.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length > 0)))
        throw new Error(
          `node ${n.name} (${n.opType}) has a subgraph; merging graphs with control flow is not supported`,
        );
      return {
        ...n,
        name: rename(n.name ?? ''),
        // '' marks an omitted optional input and must stay ''.
        input: (n.input ?? []).map((i) => (i === '' ? '' : rename(i))),
        output: (n.output ?? []).map((o) => (o === '' ? '' : rename(o))),
      };
    }),
  };
}

/** Keeps only the nodes, initializers and value infos that the graph's outputs depend on. */
function prune(graph: Graph): Graph {
  const needed = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const nodes = graph.node ?? [];
  const keep: boolean[] = new Array(nodes.length).fill(false);
  // Nodes are topologically sorted in a valid ONNX graph, so one backward sweep suffices.
  for (let k = nodes.length - 1; k >= 0; k--) {
    if (!(nodes[k].output ?? []).some((o) => needed.has(o))) continue;
    keep[k] = true;
    for (const i of nodes[k].input ?? []) if (i) needed.add(i);
  }
  return {
    ...graph,
    node: nodes.filter((_, k) => keep[k]),
    initializer: (graph.initializer ?? []).filter((t) => needed.has(t.name ?? '')),
    valueInfo: (graph.valueInfo ?? []).filter((v) => needed.has(v.name ?? '')),
    input: (graph.input ?? []).filter((v) => needed.has(v.name ?? '')),
  };
}

/** Merges backbone and head into one classifier model; returns the ONNX bytes. */
export function mergeClassifier({
  backbone,
  head,
  featureOutput = 'features',
  metadata = {},
}: MergeOptions): Uint8Array {
  const model = backbone instanceof Uint8Array ? decodeModel(backbone) : backbone;
  const bg = model.graph;
  if (!bg) throw new Error('backbone model has no graph');
  const initNames = new Set((bg.initializer ?? []).map((t) => t.name));
  const imageInputs = (bg.input ?? []).filter((i) => !initNames.has(i.name));
  if (imageInputs.length !== 1)
    throw new Error(
      `backbone must have one image input; it has ${imageInputs.map((i) => i.name).join(', ') || 'none'}`,
    );
  const imageInput = imageInputs[0].name ?? '';
  if (!(bg.output ?? []).some((o) => o.name === featureOutput))
    throw new Error(
      `backbone has no output "${featureOutput}" (outputs: ${(bg.output ?? []).map((o) => o.name).join(', ')})`,
    );

  const renamedBackbone = renameGraph(bg, (n) => (n === imageInput ? MERGED_INPUT : `backbone/${n}`));
  const features = `backbone/${featureOutput}`;
  const headGraph = renameGraph(buildInferenceGraph(head).toGraph(), (n) =>
    n === INFERENCE_INPUT ? features : n === INFERENCE_OUTPUT ? MERGED_OUTPUT : `head/${n}`,
  );

  const merged = prune({
    name: 'platina_classifier',
    input: renamedBackbone.input,
    output: headGraph.output,
    node: [...(renamedBackbone.node ?? []), ...(headGraph.node ?? [])],
    initializer: [...(renamedBackbone.initializer ?? []), ...(headGraph.initializer ?? [])],
    valueInfo: [...(renamedBackbone.valueInfo ?? []), ...(headGraph.valueInfo ?? [])],
  });

  // The head uses Gemm, Relu and Softmax(axis=1), whose meaning on 2-D inputs is the same from opset 13 on;
  // keep the backbone's opsets (raising ai.onnx to 13 if it is older).
  const opsetImport = (model.opsetImport ?? []).map((o) => ({
    domain: o.domain ?? '',
    version: !o.domain ? Math.max(13, Number(o.version)) : Number(o.version),
  }));
  if (!opsetImport.some((o) => o.domain === '')) opsetImport.push({ domain: '', version: 17 });
  const props = {
    ...modelMetadata(model),
    ...metadata,
    'platina.head': '512-1000-512-256-2 (paper section 2.4)',
  };
  return encodeModel(
    onnx.ModelProto.create({
      irVersion: Math.max(8, Number(model.irVersion ?? 8)),
      producerName: 'platina',
      producerVersion: '0.1.0',
      docString:
        'Platina classifier: backbone + head merged; input preprocessed image, output [P(normal), P(abnormal)]',
      opsetImport,
      graph: merged,
      metadataProps: Object.entries(props).map(([key, value]) => ({ key, value })),
    }),
  );
}
