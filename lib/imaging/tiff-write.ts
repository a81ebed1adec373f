/**
 * A streaming writer of baseline TIFF 6.0 grayscale images: little-endian, uncompressed, one sample per pixel,
 * 8 or 16 bits, MinIsBlack, strips of `rowsPerStrip` rows.
 *
 * Why streaming: a full-scale synthetic electrode is ~1145×2072×2 B ≈ 4.7 MB and the data set is 714 of them
 * (3.4 GB); building each image in memory and then encoding it would double the memory traffic of the generator.
 * Because width, height and strip layout are known up front, the header, the single IFD and the strip tables can be
 * written first and the pixel rows appended as they are produced: the file is
 *
 *   [8-byte header][IFD][X/YResolution rationals][StripOffsets][StripByteCounts][row 0][row 1]…[row h−1]
 *
 * with all strips contiguous. Every byte is a function of (width, height, bitDepth, rowsPerStrip, pixels): no
 * timestamps or software tags, so the output is byte-for-byte deterministic.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type TiffBitDepth = 8 | 16;

export interface TiffSpec {
  width: number;
  height: number;
  bitDepth: TiffBitDepth;
  /** Rows per strip. Default: as many rows as fit in 64 KiB (at least 1). */
  rowsPerStrip?: number;
}

/**
 * Fills `out` (length = width) with the pixels of row `y`. Rows are requested once each, top to bottom.
 * For 16-bit images `out` is a Uint16Array, for 8-bit a Uint8Array. The row buffer is reused by the writer only
 * after the call returns, so the callback must not keep it.
 */
export type RowFn<D extends TiffBitDepth = TiffBitDepth> = (y: number, out: RowOf<D>) => void;
export type RowOf<D extends TiffBitDepth> = D extends 16 ? Uint16Array : Uint8Array;
type AnyRowFn = (y: number, out: Uint8Array | Uint16Array) => void;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
/** Strip size target when the caller does not choose rowsPerStrip: large enough that readers do few seeks. */
const DEFAULT_STRIP_BYTES = 64 * 1024;
/** How many bytes of rows the writer batches into one chunk (one write call). */
const CHUNK_BYTES = 1 << 20;
const MAX_OFFSET = 0xffffffff;

interface Layout {
  width: number;
  height: number;
  bitDepth: TiffBitDepth;
  rowBytes: number;
  rowsPerStrip: number;
  strips: number;
  headerBytes: number;
  totalBytes: number;
}

function layout(spec: TiffSpec): Layout {
  const { width, height, bitDepth } = spec;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`TIFF size must be positive integers, got ${width}×${height}`);
  }
  if (bitDepth !== 8 && bitDepth !== 16)
    throw new RangeError(`TIFF bit depth must be 8 or 16, got ${bitDepth}`);
  const rowBytes = width * (bitDepth / 8);
  const rowsPerStrip = Math.min(
    height,
    spec.rowsPerStrip ?? Math.max(1, Math.floor(DEFAULT_STRIP_BYTES / rowBytes)),
  );
  if (!Number.isInteger(rowsPerStrip) || rowsPerStrip < 1) {
    throw new RangeError(`rowsPerStrip must be a positive integer, got ${spec.rowsPerStrip}`);
  }
  const strips = Math.ceil(height / rowsPerStrip);
  const headerBytes = 8 + IFD_BYTES + 16 + (strips > 1 ? 8 * strips : 0);
  const totalBytes = headerBytes + rowBytes * height;
  if (totalBytes > MAX_OFFSET)
    throw new RangeError(`a ${width}×${height} image does not fit in a 32-bit-offset TIFF`);
  return { width, height, bitDepth, rowBytes, rowsPerStrip, strips, headerBytes, totalBytes };
}

const TAG_COUNT = 14;
const IFD_BYTES = 2 + 12 * TAG_COUNT + 4;

/** The header, IFD and out-of-line tag values: everything before the first pixel. */
function encodeHeader(l: Layout): Uint8Array {
  const out = new Uint8Array(l.headerBytes);
  const dv = new DataView(out.buffer);
  out[0] = 0x49; // "II": little-endian
  out[1] = 0x49;
  dv.setUint16(2, 42, true);
  dv.setUint32(4, 8, true);

  const resolutionAt = 8 + IFD_BYTES; // XResolution then YResolution, 8 bytes each
  const offsetsAt = resolutionAt + 16;
  const countsAt = offsetsAt + 4 * l.strips;
  const dataAt = l.headerBytes;
  const stripBytes = l.rowsPerStrip * l.rowBytes;
  const lastStripBytes = (l.height - (l.strips - 1) * l.rowsPerStrip) * l.rowBytes;
  const single = l.strips === 1;

  // [tag, type, count, value-or-offset]; tags in ascending order as TIFF requires.
  const entries: [number, number, number, number][] = [
    [256, LONG, 1, l.width], // ImageWidth
    [257, LONG, 1, l.height], // ImageLength
    [258, SHORT, 1, l.bitDepth], // BitsPerSample
    [259, SHORT, 1, 1], // Compression: none
    [262, SHORT, 1, 1], // PhotometricInterpretation: MinIsBlack
    [273, LONG, l.strips, single ? dataAt : offsetsAt], // StripOffsets
    [277, SHORT, 1, 1], // SamplesPerPixel
    [278, LONG, 1, l.rowsPerStrip], // RowsPerStrip
    [279, LONG, l.strips, single ? lastStripBytes : countsAt], // StripByteCounts
    [282, RATIONAL, 1, resolutionAt], // XResolution (baseline-required; 1/1, no unit)
    [283, RATIONAL, 1, resolutionAt + 8], // YResolution
    [284, SHORT, 1, 1], // PlanarConfiguration: chunky
    [296, SHORT, 1, 1], // ResolutionUnit: none
    [339, SHORT, 1, 1], // SampleFormat: unsigned integer
  ];
  if (entries.length !== TAG_COUNT) throw new Error('tag table out of sync with TAG_COUNT');
  dv.setUint16(8, TAG_COUNT, true);
  entries.forEach(([tag, type, count, value], k) => {
    const e = 10 + 12 * k;
    dv.setUint16(e, tag, true);
    dv.setUint16(e + 2, type, true);
    dv.setUint32(e + 4, count, true);
    // SHORT values that fit in the entry are left-justified in the 4-byte field.
    if (type === SHORT) dv.setUint16(e + 8, value, true);
    else dv.setUint32(e + 8, value, true);
  });
  dv.setUint32(10 + 12 * TAG_COUNT, 0, true); // no next IFD
  for (const at of [resolutionAt, resolutionAt + 8]) {
    dv.setUint32(at, 1, true);
    dv.setUint32(at + 4, 1, true);
  }
  if (!single) {
    for (let s = 0; s < l.strips; s++) {
      dv.setUint32(offsetsAt + 4 * s, dataAt + s * stripBytes, true);
      dv.setUint32(countsAt + 4 * s, s === l.strips - 1 ? lastStripBytes : stripBytes, true);
    }
  }
  return out;
}

/**
 * The file as a sequence of byte chunks: the header first, then rows in batches of about 1 MiB. Each chunk is a
 * fresh buffer that the consumer may keep. This is the one code path behind {@link writeTiff} and
 * {@link encodeTiff}; use it directly to stream into anything (a hash, a socket, an HTTP body).
 */
export function* tiffChunks<D extends TiffBitDepth>(
  spec: TiffSpec & { bitDepth: D },
  rowAt: RowFn<D>,
): Generator<Uint8Array, void, undefined> {
  const l = layout(spec);
  yield encodeHeader(l);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / l.rowBytes));
  for (let y0 = 0; y0 < l.height; y0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, l.height - y0);
    const buffer = new ArrayBuffer(rows * l.rowBytes);
    for (let r = 0; r < rows; r++) {
      const row =
        l.bitDepth === 16
          ? new Uint16Array(buffer, r * l.rowBytes, l.width)
          : new Uint8Array(buffer, r * l.rowBytes, l.width);
      (rowAt as AnyRowFn)(y0 + r, row);
    }
    if (l.bitDepth === 16 && !HOST_IS_LITTLE_ENDIAN) swapBytes16(new Uint8Array(buffer));
    yield new Uint8Array(buffer);
  }
}

function swapBytes16(b: Uint8Array): void {
  for (let i = 0; i + 1 < b.length; i += 2) {
    const t = b[i];
    b[i] = b[i + 1];
    b[i + 1] = t;
  }
}

/**
 * Writes a TIFF to `path`, asking `rowAt` for the rows one by one and writing them in ~1 MiB batches, so memory
 * stays bounded whatever the image size. Synchronous on purpose: the synthetic generator runs it inside worker
 * threads, where blocking is free and avoids a promise per chunk. Returns the file's size in bytes.
 */
export function writeTiff<D extends TiffBitDepth>(
  path: string,
  spec: TiffSpec & { bitDepth: D },
  rowAt: RowFn<D>,
): number {
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    for (const chunk of tiffChunks(spec, rowAt)) {
      let written = 0;
      while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
      bytes += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Encodes a whole TIFF into one Buffer (for small fixtures and uploads in tests). */
export function encodeTiff<D extends TiffBitDepth>(
  spec: TiffSpec & { bitDepth: D },
  pixels: RowFn<D> | RowOf<D>,
): Buffer {
  let rowAt: AnyRowFn;
  if (typeof pixels === 'function') rowAt = pixels as AnyRowFn;
  else {
    const expected = spec.width * spec.height;
    if (pixels.length !== expected) {
      throw new RangeError(
        `expected ${expected} pixels for ${spec.width}×${spec.height}, got ${pixels.length}`,
      );
    }
    if ((spec.bitDepth === 16) !== pixels instanceof Uint16Array) {
      throw new TypeError(
        `a ${spec.bitDepth}-bit TIFF needs a ${spec.bitDepth === 16 ? 'Uint16Array' : 'Uint8Array'}`,
      );
    }
    const px = pixels as Uint8Array | Uint16Array;
    rowAt = (y, out) => out.set(px.subarray(y * spec.width, (y + 1) * spec.width));
  }
  return Buffer.concat([...tiffChunks(spec as TiffSpec, rowAt as RowFn)]);
}

/** Size in bytes of the file {@link writeTiff} produces for `spec`, without producing it. */
export function tiffByteLength(spec: TiffSpec): number {
  return layout(spec).totalBytes;
}
