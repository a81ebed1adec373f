import type { HeadParams } from '../head/params.ts';

/**
 * `model_versions.head_weights`: the trained head as bytes. Layout (little-endian): 'PLH1', u32 layer
 * count, then per layer u32 inputs, u32 outputs, float32 weight [inputs × outputs] row-major, float32
 * bias [outputs]. Plain and versioned by its magic, so a stored model stays readable.
 */
const MAGIC = 0x31484c50; // 'PLH1'

export function encodeHead(params: HeadParams): Buffer {
  const floats = params.reduce((n, l) => n + l.weight.length + l.bias.length, 0);
  const buf = Buffer.alloc(8 + params.length * 8 + floats * 4);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(params.length, 4);
  let o = 8;
  for (const l of params) {
    buf.writeUInt32LE(l.inputs, o);
    buf.writeUInt32LE(l.outputs, o + 4);
    o += 8;
    for (const a of [l.weight, l.bias]) {
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, o);
      o += a.byteLength;
    }
  }
  return buf;
}

export function decodeHead(buf: Buffer): HeadParams {
  if (buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not a Platina head (bad magic)');
  const layers = buf.readUInt32LE(4);
  const params: HeadParams = [];
  let o = 8;
  for (let k = 0; k < layers; k++) {
    const inputs = buf.readUInt32LE(o);
    const outputs = buf.readUInt32LE(o + 4);
    o += 8;
    const read = (n: number) => {
      const a = new Float32Array(n);
      Buffer.from(a.buffer).set(buf.subarray(o, o + n * 4));
      o += n * 4;
      return a;
    };
    const weight = read(inputs * outputs);
    const bias = read(outputs);
    params.push({ inputs, outputs, weight, bias });
  }
  if (o !== buf.length) throw new Error(`head bytes: ${buf.length - o} bytes left over`);
  return params;
}
