import type { HeadParams } from './head.ts';

/**
 * `model_versions.head_weights`: the trained heads as bytes (little-endian).
 *
 *   'PLH1', u32 layer count, then per layer u32 inputs, u32 outputs, float32 weight [inputs × outputs] row-major,
 *   float32 bias [outputs]                                       — the normal/abnormal head (always)
 *   optionally 'PLA1', u32 type count, per type u8 length + ASCII code, then the layers as above
 *                                                                — the anomaly-type head (head/multilabel.ts)
 *
 * Plain and versioned by its magics, so a stored model stays readable: versions stored before the type head have
 * the first block only. The type head carries its output codes, so its probabilities keep their names even if the
 * list of types ever changes.
 */
const MAGIC = 0x31484c50; // 'PLH1'
const ANOMALY_MAGIC = 0x31414c50; // 'PLA1'

/** The anomaly-type head with the code of each output, in output order. */
export interface StoredAnomalyHead {
  codes: readonly string[];
  params: HeadParams;
}

function layerBytes(params: HeadParams): number {
  return 4 + params.reduce((n, l) => n + 8 + (l.weight.length + l.bias.length) * 4, 0);
}

function writeLayers(buf: Buffer, o: number, params: HeadParams): number {
  buf.writeUInt32LE(params.length, o);
  o += 4;
  for (const l of params) {
    buf.writeUInt32LE(l.inputs, o);
    buf.writeUInt32LE(l.outputs, o + 4);
    o += 8;
    for (const a of [l.weight, l.bias]) {
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, o);
      o += a.byteLength;
    }
  }
  return o;
}

function readLayers(buf: Buffer, o: number): { params: HeadParams; end: number } {
  const need = (n: number) => {
    if (o + n > buf.length) throw new Error('head bytes: truncated');
  };
  need(4);
  const layers = buf.readUInt32LE(o);
  o += 4;
  const params: HeadParams = [];
  for (let k = 0; k < layers; k++) {
    need(8);
    const inputs = buf.readUInt32LE(o);
    const outputs = buf.readUInt32LE(o + 4);
    o += 8;
    const read = (n: number) => {
      need(n * 4);
      const a = new Float32Array(n);
      Buffer.from(a.buffer).set(buf.subarray(o, o + n * 4));
      o += n * 4;
      return a;
    };
    const weight = read(inputs * outputs);
    const bias = read(outputs);
    params.push({ inputs, outputs, weight, bias });
  }
  return { params, end: o };
}

export function encodeHead(params: HeadParams, anomalyHead: StoredAnomalyHead | null = null): Buffer {
  const codes = anomalyHead?.codes.map((c) => Buffer.from(c, 'ascii')) ?? [];
  const anomalyBytes = anomalyHead
    ? 8 + codes.reduce((n, c) => n + 1 + c.length, 0) + layerBytes(anomalyHead.params)
    : 0;
  const buf = Buffer.alloc(4 + layerBytes(params) + anomalyBytes);
  buf.writeUInt32LE(MAGIC, 0);
  let o = writeLayers(buf, 4, params);
  if (anomalyHead) {
    buf.writeUInt32LE(ANOMALY_MAGIC, o);
    buf.writeUInt32LE(codes.length, o + 4);
    o += 8;
    for (const c of codes) {
      if (c.length > 255) throw new Error('an anomaly code longer than 255 bytes');
      buf.writeUInt8(c.length, o);
      c.copy(buf, o + 1);
      o += 1 + c.length;
    }
    writeLayers(buf, o, anomalyHead.params);
  }
  return buf;
}

/** Both heads; `anomalyHead` is null for versions stored without one. */
export function decodeHeads(buf: Buffer): { head: HeadParams; anomalyHead: StoredAnomalyHead | null } {
  if (buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not a Platina head (bad magic)');
  const binary = readLayers(buf, 4);
  let o = binary.end;
  if (o === buf.length) return { head: binary.params, anomalyHead: null };
  if (o + 8 > buf.length || buf.readUInt32LE(o) !== ANOMALY_MAGIC)
    throw new Error(`head bytes: ${buf.length - o} bytes left over`);
  const count = buf.readUInt32LE(o + 4);
  o += 8;
  const codes: string[] = [];
  for (let k = 0; k < count; k++) {
    if (o + 1 > buf.length) throw new Error('head bytes: truncated');
    const n = buf.readUInt8(o);
    if (o + 1 + n > buf.length) throw new Error('head bytes: truncated');
    codes.push(buf.toString('ascii', o + 1, o + 1 + n));
    o += 1 + n;
  }
  const anomaly = readLayers(buf, o);
  if (anomaly.end !== buf.length) throw new Error(`head bytes: ${buf.length - anomaly.end} bytes left over`);
  const outputs = anomaly.params.at(-1)?.outputs ?? 0;
  if (outputs !== codes.length)
    throw new Error(`the anomaly head has ${outputs} outputs for ${codes.length} type codes`);
  return { head: binary.params, anomalyHead: { codes, params: anomaly.params } };
}

/** The normal/abnormal head (what the ONNX export merges behind the backbone). */
export function decodeHead(buf: Buffer): HeadParams {
  return decodeHeads(buf).head;
}
