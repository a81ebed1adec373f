/**
 * A tiny baseline-TIFF builder for tests and benchmarks: it writes exactly the tags asked for, so tests
 * can produce valid images fast (geotiff's `writeArrayBuffer` spends ~1 s on a 2000×1000 image) and
 * also the invalid ones the decoder must reject (RGB, float, signed, palette, truncated, ...).
 * Not a general-purpose writer: the synthetic-data tooling owns `tiff-write.ts`.
 */
import { deflateSync } from 'node:zlib';

export interface TiffFixtureOptions {
  width: number;
  height: number;
  /** Pixel samples, interleaved (chunky) when samplesPerPixel > 1. Written in the file's byte order. */
  data: Uint8Array | Uint16Array | Uint32Array | Int16Array | Float32Array;
  bitsPerSample?: number;
  samplesPerPixel?: number;
  /** 1 unsigned, 2 signed, 3 float; omitted = tag absent (TIFF default: unsigned). */
  sampleFormat?: number;
  /** 0 MinIsWhite, 1 MinIsBlack, 2 RGB, 3 palette, ... */
  photometric?: number;
  littleEndian?: boolean;
  rowsPerStrip?: number;
  compression?: 'none' | 'deflate';
  /** Extra SHORT/LONG tags, e.g. {338: [2]} for ExtraSamples. */
  extraTags?: Record<number, number[]>;
}

const SHORT = 3;
const LONG = 4;

/** Builds a TIFF file. The result is a fresh ArrayBuffer holding only the file's bytes. */
export function buildTiff(o: TiffFixtureOptions): ArrayBuffer {
  const le = o.littleEndian ?? true;
  const spp = o.samplesPerPixel ?? 1;
  const bps = o.bitsPerSample ?? o.data.BYTES_PER_ELEMENT * 8;
  const bytesPerSample = bps / 8;
  const rowsPerStrip = Math.min(o.rowsPerStrip ?? o.height, o.height);
  const rowBytes = o.width * spp * bytesPerSample;
  const stripCount = Math.ceil(o.height / rowsPerStrip);

  // Serialise the samples in the file's byte order.
  const raw = new Uint8Array(o.width * o.height * spp * bytesPerSample);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < o.width * o.height * spp; i++) {
    const v = o.data[i] ?? 0;
    if (bytesPerSample === 1) view.setUint8(i, v);
    else if (bytesPerSample === 2) {
      if (o.data instanceof Int16Array) view.setInt16(2 * i, v, le);
      else view.setUint16(2 * i, v, le);
    } else if (o.data instanceof Float32Array) view.setFloat32(4 * i, v, le);
    else view.setUint32(4 * i, v, le);
  }
  const strips: Uint8Array[] = [];
  for (let s = 0; s < stripCount; s++) {
    const chunk = raw.subarray(
      s * rowsPerStrip * rowBytes,
      Math.min(raw.length, (s + 1) * rowsPerStrip * rowBytes),
    );
    strips.push(o.compression === 'deflate' ? new Uint8Array(deflateSync(chunk)) : chunk);
  }

  const tags = new Map<number, { type: number; values: number[] }>();
  tags.set(256, { type: LONG, values: [o.width] });
  tags.set(257, { type: LONG, values: [o.height] });
  tags.set(258, { type: SHORT, values: Array(spp).fill(bps) });
  tags.set(259, { type: SHORT, values: [o.compression === 'deflate' ? 8 : 1] });
  tags.set(262, { type: SHORT, values: [o.photometric ?? (spp >= 3 ? 2 : 1)] });
  tags.set(273, { type: LONG, values: Array(stripCount).fill(0) }); // patched below
  tags.set(277, { type: SHORT, values: [spp] });
  tags.set(278, { type: LONG, values: [rowsPerStrip] });
  tags.set(279, { type: LONG, values: strips.map((s) => s.length) });
  if (o.sampleFormat !== undefined) tags.set(339, { type: SHORT, values: Array(spp).fill(o.sampleFormat) });
  for (const [tag, values] of Object.entries(o.extraTags ?? {}))
    tags.set(Number(tag), { type: SHORT, values });
  if (o.photometric === 3 && !tags.has(320)) {
    tags.set(320, { type: SHORT, values: Array(3 * 2 ** bps).fill(0) }); // ColorMap
  }

  const sorted = [...tags.entries()].sort((a, b) => a[0] - b[0]);
  const ifdOffset = 8;
  const ifdSize = 2 + sorted.length * 12 + 4;
  // Values that do not fit in the 4-byte entry go after the IFD.
  let blobOffset = ifdOffset + ifdSize;
  const blobOffsets = new Map<number, number>();
  for (const [tag, { type, values }] of sorted) {
    const size = values.length * (type === SHORT ? 2 : 4);
    if (size > 4) {
      blobOffsets.set(tag, blobOffset);
      blobOffset += size + (size & 1);
    }
  }
  let dataOffset = blobOffset;
  const stripOffsets: number[] = [];
  for (const s of strips) {
    stripOffsets.push(dataOffset);
    dataOffset += s.length;
  }
  tags.get(273)!.values = stripOffsets;

  const out = new Uint8Array(dataOffset);
  const dv = new DataView(out.buffer);
  out.set(le ? [0x49, 0x49] : [0x4d, 0x4d], 0);
  dv.setUint16(2, 42, le);
  dv.setUint32(4, ifdOffset, le);
  dv.setUint16(ifdOffset, sorted.length, le);
  sorted.forEach(([tag, { type, values }], k) => {
    const e = ifdOffset + 2 + 12 * k;
    dv.setUint16(e, tag, le);
    dv.setUint16(e + 2, type, le);
    dv.setUint32(e + 4, values.length, le);
    const at = blobOffsets.get(tag) ?? e + 8;
    values.forEach((v, i) => {
      if (type === SHORT) dv.setUint16(at + 2 * i, v, le);
      else dv.setUint32(at + 4 * i, v, le);
    });
    if (blobOffsets.has(tag)) dv.setUint32(e + 8, at, le);
  });
  dv.setUint32(ifdOffset + 2 + 12 * sorted.length, 0, le);
  strips.forEach((s, i) => out.set(s, stripOffsets[i]));
  return out.buffer;
}

/** Deterministic 16-bit test pixels resembling the paper's data: coating around 1700–2800, a few bright specks. */
export function syntheticXray16(width: number, height: number, seed = 1): Uint16Array {
  const px = new Uint16Array(width * height);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < px.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const r = (s >>> 0) / 4294967296;
    px[i] = r < 0.0002 ? 20000 + Math.floor(r * 4e7) : 1700 + Math.floor(r * 1100);
  }
  return px;
}
