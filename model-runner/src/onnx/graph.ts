/**
 * A small typed builder for ONNX graphs over the `onnx-proto` protobuf definitions.
 *
 * Why hand-built graphs: the issue wants one runtime (onnxruntime-node) for inference and
 * training on CPU and GPU, and no Python at run time, so the backbone, the head's training
 * step and the merged export are all written here as ONNX graphs in TypeScript.
 *
 * Conventions:
 * - Attribute values: a plain `number` is an INT, a plain `number[]` is INTS, a `string` is a
 *   STRING. Floats must be wrapped: `float(0.1)`, `floats([...])` — ONNX distinguishes INT and
 *   FLOAT attributes strictly and guessing from the value (1 vs 1.0) is a classic bug.
 * - Shapes: `number` is a fixed dimension, `string` a symbolic one (dim_param, e.g. 'N'),
 *   `null` an unknown one.
 * - Tensors are stored as little-endian `raw_data` (Node runs on little-endian machines only).
 * - IR version 8 (what onnx-proto 8 / ONNX 1.10 defines) with opset 17 by default; ORT ≥ 1.14
 *   runs opset 17 under IR 8.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.GraphProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DEFAULT_OPSET = 17;
export const DEFAULT_IR_VERSION = 8;

/** Element types we use, named as ONNX Runtime's `Tensor.type` names them. */
export type ElemType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

const DATA_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** ONNX `TensorProto.DataType` number for an element type. */
export function dataTypeOf(t: ElemType): number {
  return DATA_TYPE[t];
}

/** Element type for an ONNX `TensorProto.DataType` number, or undefined for types we don't use. */
export function elemTypeOf(dataType: number): ElemType | undefined {
  return (Object.keys(DATA_TYPE) as ElemType[]).find((k) => DATA_TYPE[k] === dataType);
}

export type Dim = number | string | null;

/** Data accepted for a tensor. float16 data is given as raw IEEE half bits in a Uint16Array. */
export type TensorData =
  Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array | number[];

// ---------------------------------------------------------------------------------------------
// Attributes

export type AttrValue =
  | number
  | number[]
  | string
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'tensor'; value: TensorProto }
  | { kind: 'graph'; value: GraphProto | onnxProto.onnx.IGraphProto };

/** A FLOAT attribute (plain numbers are INTs). */
export const float = (value: number): AttrValue => ({ kind: 'float', value });
/** A FLOATS attribute (plain number arrays are INTS). */
export const floats = (value: number[]): AttrValue => ({ kind: 'floats', value });
/** A TENSOR attribute (e.g. for `Constant`). */
export const tensorAttr = (value: TensorProto): AttrValue => ({ kind: 'tensor', value });
/** A GRAPH attribute (e.g. a branch of `If`, a body of `Loop`). */
export const graphAttr = (value: GraphProto | onnxProto.onnx.IGraphProto): AttrValue => ({
  kind: 'graph',
  value,
});

const A = onnx.AttributeProto.AttributeType;

function toAttribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v))
      throw new Error(`attribute ${name}: ${v} is not an integer; wrap floats with float()`);
    return { name, type: A.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    for (const x of v) {
      if (!Number.isInteger(x))
        throw new Error(`attribute ${name}: ${x} is not an integer; wrap floats with floats()`);
    }
    return { name, type: A.INTS, ints: v };
  }
  switch (v.kind) {
    case 'float':
      return { name, type: A.FLOAT, f: v.value };
    case 'floats':
      return { name, type: A.FLOATS, floats: v.value };
    case 'tensor':
      return { name, type: A.TENSOR, t: v.value };
    case 'graph':
      return { name, type: A.GRAPH, g: v.value };
  }
}

// ---------------------------------------------------------------------------------------------
// Tensors

function rawBytes(type: ElemType, data: TensorData): Uint8Array {
  let typed: ArrayBufferView;
  if (Array.isArray(data)) {
    switch (type) {
      case 'float32':
        typed = Float32Array.from(data);
        break;
      case 'float64':
        typed = Float64Array.from(data);
        break;
      case 'int64':
        typed = BigInt64Array.from(data, (x) => BigInt(x));
        break;
      case 'int32':
        typed = Int32Array.from(data);
        break;
      case 'uint8':
      case 'bool':
        typed = Uint8Array.from(data);
        break;
      case 'float16':
        throw new Error('float16 tensors take raw half bits in a Uint16Array');
    }
  } else {
    const expected = {
      float32: Float32Array,
      float64: Float64Array,
      int64: BigInt64Array,
      int32: Int32Array,
      uint8: Uint8Array,
      bool: Uint8Array,
      float16: Uint16Array,
    }[type];
    if (!(data instanceof expected)) throw new Error(`tensor of ${type} needs a ${expected.name}`);
    typed = data;
  }
  // Copy: the proto must not alias a buffer the caller may mutate later.
  return new Uint8Array(typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength));
}

/** A TensorProto (for initializers or Constant attributes) with little-endian raw data. */
export function makeTensor(name: string, type: ElemType, dims: number[], data: TensorData): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new Error(`tensor ${name}: ${data.length} values for dims [${dims.join(', ')}] (${count})`);
  }
  return { name, dataType: DATA_TYPE[type], dims, rawData: rawBytes(type, data) };
}

/** A protobuf int64 (a number or a long.js `Long` after decoding) as a plain number. */
export function toNumber(x: number | { toNumber(): number }): number {
  return typeof x === 'number' ? x : x.toNumber();
}

/** Dimensions of a decoded TensorProto as plain numbers. */
export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => toNumber(d as number | { toNumber(): number }));
}

/**
 * Float data of a decoded float32 TensorProto (raw_data or float_data), copied to a new array.
 * Throws for any other element type.
 */
export function tensorToFloat32(t: TensorProto): Float32Array {
  if (t.dataType !== DATA_TYPE.float32)
    throw new Error(`tensor ${t.name}: not float32 (data type ${t.dataType})`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new Error(
      `tensor ${t.name}: stored as external data, which is not supported; export one self-contained file`,
    );
  }
  const count = tensorDims(t).reduce((a, b) => a * b, 1);
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== count * 4)
      throw new Error(`tensor ${t.name}: raw data has ${t.rawData.length} bytes, expected ${count * 4}`);
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, count);
  }
  const f = Float32Array.from(t.floatData ?? []);
  if (f.length !== count) throw new Error(`tensor ${t.name}: ${f.length} float values, expected ${count}`);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Value infos

/** A typed value info: tensor of `type` with `shape` (omit the shape for an unknown rank). */
export function valueInfo(name: string, type: ElemType, shape?: Dim[]): ValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = { elemType: DATA_TYPE[type] };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((d) => (d === null ? {} : typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
    };
  }
  return { name, type: { tensorType } };
}

/** Element type and shape of a decoded value info (symbolic dims as strings, unknown as null). */
export function describeValueInfo(v: ValueInfoProto): {
  name: string;
  elemType: ElemType | number | undefined;
  shape: Dim[] | undefined;
} {
  const tt = v.type?.tensorType;
  const dt = tt?.elemType ?? undefined;
  // Decoded messages carry only the fields present on the wire as own properties (a oneof:
  // dim_value or dim_param); absent means an unknown dimension.
  const shape = tt?.shape
    ? (tt.shape.dim ?? []).map((d): Dim => {
        if (Object.hasOwn(d, 'dimParam') && d.dimParam) return d.dimParam;
        if (Object.hasOwn(d, 'dimValue') && d.dimValue !== null && d.dimValue !== undefined) {
          return toNumber(d.dimValue as number | { toNumber(): number });
        }
        return null;
      })
    : undefined;
  return {
    name: v.name ?? '',
    elemType: dt === undefined || dt === null ? undefined : (elemTypeOf(dt) ?? dt),
    shape,
  };
}

// ---------------------------------------------------------------------------------------------
// Builder

export interface NodeOptions {
  /** Node name; defaults to a unique `<opType>_<n>`. */
  name?: string;
  /** Operator domain, '' (ai.onnx) by default. Register other domains with `opsets` at `toModel`. */
  domain?: string;
}

export interface ModelOptions {
  /** ai.onnx opset version (default 17). */
  opset?: number;
  /** Extra operator sets, e.g. `{ 'com.microsoft': 1 }`. */
  opsets?: Record<string, number>;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Free-form model metadata (ModelProto.metadata_props); ORT exposes it per session. */
  metadata?: Record<string, string>;
}

/**
 * Builds one ONNX graph. Names are the graph's edges: every method returns the name(s) of the
 * value(s) it creates, so graphs read like the math:
 *
 *   const g = new GraphBuilder('mlp');
 *   const x = g.input('x', 'float32', ['N', 4]);
 *   const w = g.initializer('w', 'float32', [3, 4], weights);
 *   const y = g.op('Relu', [g.op('Gemm', [x, w], { transB: 1 })]);
 *   g.output(y, 'float32', ['N', 3]);
 *   const bytes = g.toBytes();  // InferenceSession.create(bytes)
 */
export class GraphBuilder {
  readonly name: string;
  readonly nodes: NodeProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly valueInfos: ValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(name = 'graph') {
    this.name = name;
  }

  /** A fresh value name starting with `prefix` that no other value in this graph uses. */
  uniqueName(prefix: string): string {
    let name = prefix;
    while (this.used.has(name)) name = `${prefix}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`value name ${name} is already used in graph ${this.name}`);
    this.used.add(name);
    return name;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, type: ElemType, shape?: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, shape));
    return name;
  }

  /** Declares an existing value as a graph output (renaming is done with an Identity node). */
  output(name: string, type: ElemType, shape?: Dim[]): string {
    this.outputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** Adds an initializer (a constant weight the runtime owns) and returns its name. */
  initializer(name: string, type: ElemType, dims: number[], data: TensorData): string {
    this.initializers.push(makeTensor(this.claim(name), type, dims, data));
    return name;
  }

  /** Adds a scalar/1-D int64 constant initializer under a unique name (shapes, axes, …). */
  int64s(values: number[] | bigint[], prefix = 'const_i64', asScalar = false): string {
    const name = this.uniqueName(prefix);
    const data = BigInt64Array.from(values as (number | bigint)[], (x) => BigInt(x));
    this.initializers.push(makeTensor(name, 'int64', asScalar ? [] : [data.length], data));
    return name;
  }

  /** Adds a float32 constant initializer under a unique name. */
  float32s(values: number[] | Float32Array, dims?: number[], prefix = 'const_f32'): string {
    const name = this.uniqueName(prefix);
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.initializers.push(makeTensor(name, 'float32', dims ?? [data.length], data));
    return name;
  }

  /** Records a type/shape hint for an intermediate value (optional; helps readers and tools). */
  hint(name: string, type: ElemType, shape?: Dim[]): void {
    this.valueInfos.push(valueInfo(name, type, shape));
  }

  /**
   * Adds a node. `outputs` is either explicit names or a count of fresh names to create.
   * Empty-string inputs mean "optional input omitted", as in ONNX. Returns the output names.
   */
  node(
    opType: string,
    inputs: string[],
    outputs: string[] | number = 1,
    attrs: Record<string, AttrValue | undefined> = {},
    options: NodeOptions = {},
  ): string[] {
    const outNames =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) =>
            this.uniqueName(`${opType.toLowerCase()}_out${outputs > 1 ? i : ''}`),
          )
        : outputs.map((o) => this.claim(o));
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => toAttribute(k, v));
    this.nodes.push({
      opType,
      input: inputs,
      output: outNames,
      name: options.name ?? this.uniqueName(`${opType}_node`),
      domain: options.domain ?? '',
      attribute,
    });
    return outNames;
  }

  /** Adds a single-output node and returns its output name. */
  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue | undefined> = {},
    options: NodeOptions & { output?: string } = {},
  ): string {
    const [out] = this.node(opType, inputs, options.output ? [options.output] : 1, attrs, options);
    return out;
  }

  /** The GraphProto (also usable as a subgraph attribute). */
  toGraph(): onnxProto.onnx.IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      input: this.inputs,
      output: this.outputs,
      initializer: this.initializers,
      valueInfo: this.valueInfos,
    };
  }

  /** Wraps the graph in a ModelProto. */
  toModel(options: ModelOptions = {}): ModelProto {
    const opsetImport: onnxProto.onnx.IOperatorSetIdProto[] = [
      { domain: '', version: options.opset ?? DEFAULT_OPSET },
    ];
    for (const [domain, version] of Object.entries(options.opsets ?? {}))
      opsetImport.push({ domain, version });
    return onnx.ModelProto.create({
      irVersion: options.irVersion ?? DEFAULT_IR_VERSION,
      producerName: options.producerName ?? 'platina',
      producerVersion: options.producerVersion ?? '0.1.0',
      docString: options.docString ?? '',
      opsetImport,
      graph: this.toGraph(),
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }

  /** Serialised model bytes, ready for `InferenceSession.create(bytes)`. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    return encodeModel(this.toModel(options));
  }
}

/** Serialises a ModelProto. */
export function encodeModel(model: ModelProto | onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Parses ONNX bytes into a ModelProto (throws a protobuf error for non-ONNX bytes). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** The ai.onnx (default domain) opset a decoded model imports; 0 when it imports none. */
export function aiOnnxOpset(model: ModelProto | onnxProto.onnx.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? toNumber(entry.version as number) : 0;
}

/** Metadata (metadata_props) of a decoded model as a plain record. */
export function modelMetadata(model: ModelProto | onnxProto.onnx.IModelProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) out[p.key] = p.value ?? '';
  return out;
}
