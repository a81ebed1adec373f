/**
 * The hostile-input corpus (issue 14): a deterministic generator of malformed TIFFs — truncations, byte flips,
 * decompression bombs, lying JPEG and tile headers, IFD loops, BigTIFF, every compression with corrupt data,
 * big-endian variants — beside the valid files they are made from. Generated in memory at test time (never
 * written into the repository); `decodeTiff`'s unit tests and the upload route's test both walk it.
 *
 * Each file says what a correct server does with it:
 * - `accept`: 201, with exactly `pixels` (valid files in every layout we read);
 * - `reject`: 422 (the file is broken in a way that is certain to be detectable);
 * - `either`: 201 or 422 (a byte flipped somewhere: it may land in a tag nobody reads, or make a strip
 *   decode to other but well-formed data); a 201 must then match an independent decoder (the test uses
 *   geotiff's `readRasters`).
 * Node-only (uses node:zlib), like `tiff-fixtures.ts`.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

export type Expectation =
  | { kind: 'accept'; width: number; height: number; bitDepth: 8 | 16; pixels: Uint8Array | Uint16Array }
  | { kind: 'reject' }
  | { kind: 'either' };

export interface CorpusFile {
  name: string;
  bytes: Uint8Array;
  expect: Expectation;
}

// ---------------------------------------------------------------------------------------------------------
// A TIFF writer that writes whatever it is told, lies included.

const SHORT = 3;
const LONG = 4;
const UNDEFINED = 7;
const LONG8 = 16;

interface Tag {
  tag: number;
  type: number;
  values: number[] | Uint8Array;
}

interface RawTiff {
  littleEndian: boolean;
  big: boolean;
  tags: Tag[];
  /** Strip or tile data, written after the IFD; their offsets replace the values of `offsetsTag`. */
  chunks: Uint8Array[];
  offsetsTag: 273 | 324;
  /** Next-IFD offset; 'self' makes a one-IFD loop. */
  nextIfd?: number | 'self';
}

function typeSize(type: number): number {
  return type === SHORT ? 2 : type === LONG ? 4 : type === LONG8 ? 8 : 1;
}

function writeRaw(t: RawTiff): Uint8Array {
  const le = t.littleEndian;
  const entrySize = t.big ? 20 : 12;
  const inline = t.big ? 8 : 4;
  const ifdAt = t.big ? 16 : 8;
  const tags = [...t.tags].sort((a, b) => a.tag - b.tag);
  const ifdBytes = (t.big ? 8 : 2) + tags.length * entrySize + (t.big ? 8 : 4);
  let blob = ifdAt + ifdBytes;
  const at = new Map<Tag, number>();
  for (const tag of tags) {
    const size = tag.values.length * typeSize(tag.type);
    if (size > inline) {
      at.set(tag, blob);
      blob += size + (size & 1);
    }
  }
  const offsets: number[] = [];
  let end = blob;
  for (const c of t.chunks) {
    offsets.push(end);
    end += c.length;
  }
  const offsetsTag = tags.find((x) => x.tag === t.offsetsTag);
  if (offsetsTag && offsetsTag.values.length === t.chunks.length) offsetsTag.values = offsets;

  const out = new Uint8Array(end);
  const dv = new DataView(out.buffer);
  const put = (type: number, pos: number, v: number) => {
    if (type === SHORT) dv.setUint16(pos, v, le);
    else if (type === LONG) dv.setUint32(pos, v, le);
    else if (type === LONG8) dv.setBigUint64(pos, BigInt(v), le);
    else dv.setUint8(pos, v);
  };
  out.set(le ? [0x49, 0x49] : [0x4d, 0x4d]);
  if (t.big) {
    dv.setUint16(2, 43, le);
    dv.setUint16(4, 8, le);
    dv.setBigUint64(8, BigInt(ifdAt), le);
    dv.setBigUint64(ifdAt, BigInt(tags.length), le);
  } else {
    dv.setUint16(2, 42, le);
    dv.setUint32(4, ifdAt, le);
    dv.setUint16(ifdAt, tags.length, le);
  }
  tags.forEach((tag, k) => {
    const e = ifdAt + (t.big ? 8 : 2) + k * entrySize;
    dv.setUint16(e, tag.tag, le);
    dv.setUint16(e + 2, tag.type, le);
    if (t.big) dv.setBigUint64(e + 4, BigInt(tag.values.length), le);
    else dv.setUint32(e + 4, tag.values.length, le);
    const valueField = e + (t.big ? 12 : 8);
    const where = at.get(tag) ?? valueField;
    if (at.has(tag)) put(t.big ? LONG8 : LONG, valueField, where);
    tag.values.forEach((v, i) => put(tag.type, where + i * typeSize(tag.type), v));
  });
  const next = t.nextIfd === 'self' ? ifdAt : (t.nextIfd ?? 0);
  put(t.big ? LONG8 : LONG, ifdAt + (t.big ? 8 : 2) + tags.length * entrySize, next);
  t.chunks.forEach((c, i) => out.set(c, offsets[i]));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Encoders for every compression we read.

/** TIFF LZW, MSB-first, the code width tracking the decoder's (one entry behind the encoder's table). */
export function lzwEncode(data: Uint8Array): Uint8Array {
  const bytes: number[] = [];
  let acc = 0;
  let nbits = 0;
  let width = 9;
  let decNext = 258;
  let firstAfterClear = true;
  const write = (code: number) => {
    acc = (acc << width) | code;
    nbits += width;
    while (nbits >= 8) {
      bytes.push((acc >>> (nbits - 8)) & 0xff);
      nbits -= 8;
    }
    acc &= (1 << nbits) - 1;
  };
  const emit = (code: number) => {
    write(code);
    if (firstAfterClear) firstAfterClear = false;
    else if (decNext < 4096) {
      decNext++;
      if (decNext + 1 >= 1 << width && width < 12) width++;
    }
  };
  const clear = () => {
    write(256);
    width = 9;
    decNext = 258;
    firstAfterClear = true;
  };
  let dict = new Map<number, number>();
  let next = 258;
  clear();
  if (data.length > 0) {
    let w = data[0];
    for (let i = 1; i < data.length; i++) {
      const c = data[i];
      const key = w * 256 + c;
      const hit = dict.get(key);
      if (hit !== undefined) {
        w = hit;
        continue;
      }
      emit(w);
      dict.set(key, next++);
      w = c;
      if (next >= 4093) {
        emit(w);
        clear();
        dict = new Map();
        next = 258;
        if (++i >= data.length) {
          w = -1;
          break;
        }
        w = data[i];
      }
    }
    if (w >= 0) emit(w);
  }
  write(257);
  if (nbits > 0) bytes.push((acc << (8 - nbits)) & 0xff);
  return Uint8Array.from(bytes);
}

export function packbitsEncode(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < data.length) {
    let run = 1;
    while (i + run < data.length && run < 128 && data[i + run] === data[i]) run++;
    if (run >= 3) {
      out.push(257 - run, data[i]);
      i += run;
      continue;
    }
    let lit = 0;
    while (i + lit < data.length && lit < 128) {
      if (
        i + lit + 2 < data.length &&
        data[i + lit] === data[i + lit + 1] &&
        data[i + lit] === data[i + lit + 2]
      )
        break;
      lit++;
    }
    out.push(lit - 1, ...data.subarray(i, i + lit));
    i += lit;
  }
  return Uint8Array.from(out);
}

/**
 * A baseline JPEG of one 8-bit component in which every 8×8 block is flat (DC only, quantiser 1), so the
 * decoded pixels are known exactly. `declared` overrides the frame size written in SOF0 (the lying header).
 */
export function jpegEncodeFlat(
  blocks: number[][],
  declared?: { width: number; height: number },
  sof = 0xc0,
): Uint8Array {
  const rows = blocks.length;
  const cols = blocks[0].length;
  const w = declared?.width ?? cols * 8;
  const h = declared?.height ?? rows * 8;
  const seg = (marker: number, body: number[]) => [
    0xff,
    marker,
    (body.length + 2) >> 8,
    (body.length + 2) & 0xff,
    ...body,
  ];
  const dcBits = [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const acBits = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const head = [
    0xff,
    0xd8,
    ...seg(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
    ...seg(sof, [8, h >> 8, h & 0xff, w >> 8, w & 0xff, 1, 1, 0x11, 0]),
    ...seg(0xc4, [0x00, ...dcBits, ...Array.from({ length: 12 }, (_, i) => i)]),
    ...seg(0xc4, [0x10, ...acBits, 0x00]),
    ...seg(0xda, [1, 1, 0x00, 0, 63, 0]),
  ];
  const data: number[] = [];
  let acc = 0;
  let nbits = 0;
  const put = (value: number, n: number) => {
    for (let b = n - 1; b >= 0; b--) {
      acc = (acc << 1) | ((value >>> b) & 1);
      if (++nbits === 8) {
        data.push(acc);
        if (acc === 0xff) data.push(0);
        acc = 0;
        nbits = 0;
      }
    }
  };
  let pred = 0;
  for (const row of blocks) {
    for (const v of row) {
      const dc = (v - 128) * 8;
      const diff = dc - pred;
      pred = dc;
      const s = diff === 0 ? 0 : 32 - Math.clz32(Math.abs(diff));
      put(s, 4);
      if (s > 0) put(diff > 0 ? diff : diff + (1 << s) - 1, s);
      put(0, 1); // EOB
    }
  }
  if (nbits > 0) put((1 << (8 - nbits)) - 1, 8 - nbits);
  return Uint8Array.from([...head, ...data, 0xff, 0xd9]);
}

// ---------------------------------------------------------------------------------------------------------
// Valid images in every layout.

type Compression = 'none' | 'lzw' | 'deflate' | 'adobe-deflate' | 'packbits' | 'jpeg';
const COMPRESSION_CODE: Record<Compression, number> = {
  none: 1,
  lzw: 5,
  deflate: 8,
  'adobe-deflate': 32946,
  packbits: 32773,
  jpeg: 7,
};

interface ValidSpec {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  compression: Compression;
  littleEndian: boolean;
  big?: boolean;
  /** Tiles of this size; else strips of `rowsPerStrip` rows. */
  tile?: number;
  rowsPerStrip?: number;
  predictor?: 1 | 2;
  fillOrder?: 1 | 2;
  minIsWhite?: boolean;
  nextIfd?: number | 'self';
  seed: number;
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Pixels with smooth structure and noise (so compressors have something to do), flat 8×8 blocks for JPEG. */
function pixelsFor(s: ValidSpec): Uint8Array | Uint16Array {
  const rnd = prng(s.seed);
  const n = s.width * s.height;
  if (s.compression === 'jpeg') {
    const values = Array.from({ length: Math.ceil(s.height / 8) * Math.ceil(s.width / 8) }, () =>
      Math.floor(rnd() * 256),
    );
    const bw = Math.ceil(s.width / 8);
    return Uint8Array.from(
      { length: n },
      (_, i) => values[Math.floor(i / s.width / 8) * bw + Math.floor((i % s.width) / 8)],
    );
  }
  const max = s.bitDepth === 16 ? 65535 : 255;
  const px = s.bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = i % s.width;
    const y = Math.floor(i / s.width);
    const base = ((x * 7 + y * 3) / (s.width * 7 + s.height * 3)) * max * 0.8;
    px[i] = Math.min(max, Math.floor(base + rnd() * max * 0.2));
  }
  return px;
}

function fileBytesOf(px: Uint8Array | Uint16Array, le: boolean): Uint8Array {
  if (px instanceof Uint8Array) return px.slice();
  const out = new Uint8Array(px.length * 2);
  const dv = new DataView(out.buffer);
  px.forEach((v, i) => dv.setUint16(2 * i, v, le));
  return out;
}

function differencing(raw: Uint8Array, width: number, rows: number, bpp: number, le: boolean): Uint8Array {
  const out = raw.slice();
  const dv = new DataView(out.buffer);
  const src = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let r = 0; r < rows; r++) {
    for (let x = width - 1; x >= 1; x--) {
      const at = (r * width + x) * bpp;
      if (bpp === 1) out[at] = (raw[at] - raw[at - 1]) & 0xff;
      else dv.setUint16(at, (src.getUint16(at, le) - src.getUint16(at - 2, le)) & 0xffff, le);
    }
  }
  return out;
}

function reverseBits(b: Uint8Array): Uint8Array {
  return b.map((v) => {
    let r = 0;
    for (let i = 0; i < 8; i++) r |= ((v >>> i) & 1) << (7 - i);
    return r;
  });
}

function encodeChunk(c: Compression, raw: Uint8Array, blockValues?: number[][]): Uint8Array {
  switch (c) {
    case 'none':
      return raw;
    case 'lzw':
      return lzwEncode(raw);
    case 'deflate':
    case 'adobe-deflate':
      return new Uint8Array(deflateSync(raw));
    case 'packbits':
      return packbitsEncode(raw);
    case 'jpeg':
      return jpegEncodeFlat(blockValues!);
  }
}

interface Built {
  spec: ValidSpec;
  pixels: Uint8Array | Uint16Array;
  tiff: RawTiff;
}

/** The valid file for a spec, as a RawTiff so that variants can lie in it. */
function build(s: ValidSpec): Built {
  const pixels = pixelsFor(s);
  const bpp = s.bitDepth / 8;
  const stored = s.minIsWhite ? pixels.map((v) => (s.bitDepth === 16 ? 65535 : 255) - v) : pixels;
  const file = fileBytesOf(stored as Uint8Array | Uint16Array, s.littleEndian);
  const cw = s.tile ?? s.width;
  const ch = s.tile ?? Math.min(s.rowsPerStrip ?? s.height, s.height);
  const across = Math.ceil(s.width / cw);
  const down = Math.ceil(s.height / ch);
  const chunks: Uint8Array[] = [];
  for (let ty = 0; ty < down; ty++) {
    for (let tx = 0; tx < across; tx++) {
      const rows = s.tile ? ch : Math.min(ch, s.height - ty * ch);
      const raw = new Uint8Array(rows * cw * bpp); // tiles are padded with zeros at the image's edges
      for (let r = 0; r < rows; r++) {
        const y = ty * ch + r;
        if (y >= s.height) break;
        const x0 = tx * cw;
        const cols = Math.min(cw, s.width - x0);
        raw.set(file.subarray((y * s.width + x0) * bpp, (y * s.width + x0 + cols) * bpp), r * cw * bpp);
      }
      let data = s.predictor === 2 ? differencing(raw, cw, rows, bpp, s.littleEndian) : raw;
      let blocks: number[][] | undefined;
      if (s.compression === 'jpeg') {
        blocks = Array.from({ length: rows / 8 }, (_, by) =>
          Array.from({ length: cw / 8 }, (_, bx) => raw[by * 8 * cw + bx * 8]),
        );
      }
      data = encodeChunk(s.compression, data, blocks);
      if (s.fillOrder === 2) data = reverseBits(data);
      chunks.push(data);
    }
  }
  const type = s.big ? LONG8 : LONG;
  const tags: Tag[] = [
    { tag: 256, type: LONG, values: [s.width] },
    { tag: 257, type: LONG, values: [s.height] },
    { tag: 258, type: SHORT, values: [s.bitDepth] },
    { tag: 259, type: SHORT, values: [COMPRESSION_CODE[s.compression]] },
    { tag: 262, type: SHORT, values: [s.minIsWhite ? 0 : 1] },
    { tag: 277, type: SHORT, values: [1] },
    { tag: 339, type: SHORT, values: [1] },
  ];
  if (s.tile) {
    tags.push(
      { tag: 322, type: LONG, values: [cw] },
      { tag: 323, type: LONG, values: [ch] },
      { tag: 324, type, values: chunks.map(() => 0) },
      { tag: 325, type, values: chunks.map((c) => c.length) },
    );
  } else {
    tags.push(
      { tag: 273, type, values: chunks.map(() => 0) },
      { tag: 278, type: LONG, values: [ch] },
      { tag: 279, type, values: chunks.map((c) => c.length) },
    );
  }
  if (s.predictor === 2) tags.push({ tag: 317, type: SHORT, values: [2] });
  if (s.fillOrder === 2) tags.push({ tag: 266, type: SHORT, values: [2] });
  return {
    spec: s,
    pixels,
    tiff: {
      littleEndian: s.littleEndian,
      big: !!s.big,
      tags,
      chunks,
      offsetsTag: s.tile ? 324 : 273,
      nextIfd: s.nextIfd,
    },
  };
}

function clone(t: RawTiff): RawTiff {
  return {
    ...t,
    tags: t.tags.map((x) => ({ ...x, values: Array.from(x.values) })),
    chunks: t.chunks.map((c) => c.slice()),
  };
}

function setTag(t: RawTiff, tag: number, type: number, values: number[] | Uint8Array): RawTiff {
  const out = clone(t);
  out.tags = out.tags.filter((x) => x.tag !== tag).concat({ tag, type, values });
  return out;
}

function label(s: ValidSpec): string {
  return [
    s.compression,
    `${s.bitDepth}bit`,
    s.littleEndian ? 'le' : 'be',
    s.big ? 'bigtiff' : '',
    s.tile ? `tiles${s.tile}` : `strips${s.rowsPerStrip ?? s.height}`,
    s.predictor === 2 ? 'predictor2' : '',
    s.fillOrder === 2 ? 'fillorder2' : '',
    s.minIsWhite ? 'miniswhite' : '',
    s.nextIfd === 'self' ? 'ifdloop' : '',
  ]
    .filter(Boolean)
    .join('-');
}

// ---------------------------------------------------------------------------------------------------------
// The corpus.

/** Every file of the corpus, in a fixed order, with distinct bytes (an upload of repeated bytes is a 200). */
export function hostileCorpus(): CorpusFile[] {
  const files: CorpusFile[] = [];
  const accept = (name: string, b: Built, tiff = b.tiff) =>
    files.push({
      name,
      bytes: writeRaw(tiff),
      expect: {
        kind: 'accept',
        width: b.spec.width,
        height: b.spec.height,
        bitDepth: b.spec.bitDepth,
        pixels: b.pixels,
      },
    });
  const reject = (name: string, bytes: Uint8Array) => files.push({ name, bytes, expect: { kind: 'reject' } });
  const either = (name: string, bytes: Uint8Array) => files.push({ name, bytes, expect: { kind: 'either' } });

  // 1. Valid files: every compression × byte order × strips/tiles × bit depth, and the rarer features.
  const valid: Built[] = [];
  let seed = 1;
  const compressions: Compression[] = ['none', 'lzw', 'deflate', 'adobe-deflate', 'packbits', 'jpeg'];
  for (const compression of compressions) {
    for (const littleEndian of [true, false]) {
      for (const tiled of [false, true]) {
        for (const bitDepth of compression === 'jpeg' ? ([8] as const) : ([8, 16] as const)) {
          const spec: ValidSpec = {
            width: tiled ? 40 : 24,
            height: tiled ? 24 : 16,
            bitDepth,
            compression,
            littleEndian,
            tile: tiled ? 16 : undefined,
            rowsPerStrip: tiled ? undefined : compression === 'jpeg' ? 8 : 5,
            seed: seed++,
          };
          valid.push(build(spec));
        }
      }
    }
  }
  for (const littleEndian of [true, false]) {
    for (const compression of ['lzw', 'deflate'] as const) {
      valid.push(
        build({
          width: 30,
          height: 12,
          bitDepth: 16,
          compression,
          littleEndian,
          rowsPerStrip: 4,
          predictor: 2,
          seed: seed++,
        }),
      );
      valid.push(
        build({
          width: 40,
          height: 20,
          bitDepth: 8,
          compression,
          littleEndian,
          tile: 16,
          predictor: 2,
          seed: seed++,
        }),
      );
    }
    // Big-endian with many strips: rejected by geotiff 3.0.5's little-endian strip-offset reader.
    valid.push(
      build({
        width: 16,
        height: 300,
        bitDepth: 16,
        compression: 'none',
        littleEndian,
        rowsPerStrip: 1,
        seed: seed++,
      }),
    );
    valid.push(
      build({
        width: 16,
        height: 120,
        bitDepth: 16,
        compression: 'lzw',
        littleEndian,
        rowsPerStrip: 1,
        seed: seed++,
      }),
    );
    for (const compression of ['none', 'deflate', 'lzw'] as const)
      valid.push(
        build({
          width: 24,
          height: 16,
          bitDepth: 16,
          compression,
          littleEndian,
          big: true,
          rowsPerStrip: 4,
          seed: seed++,
        }),
      );
    valid.push(
      build({
        width: 24,
        height: 16,
        bitDepth: 16,
        compression: 'none',
        littleEndian,
        minIsWhite: true,
        seed: seed++,
      }),
    );
    valid.push(
      build({
        width: 24,
        height: 16,
        bitDepth: 8,
        compression: 'packbits',
        littleEndian,
        fillOrder: 2,
        rowsPerStrip: 4,
        seed: seed++,
      }),
    );
    // An IFD whose next-IFD pointer loops back to itself: only IFD 0 is read, so it is valid.
    valid.push(
      build({
        width: 24,
        height: 16,
        bitDepth: 16,
        compression: 'none',
        littleEndian,
        nextIfd: 'self',
        seed: seed++,
      }),
    );
    valid.push(
      build({
        width: 24,
        height: 16,
        bitDepth: 16,
        compression: 'deflate',
        littleEndian,
        big: true,
        nextIfd: 'self',
        seed: seed++,
      }),
    );
  }
  for (const b of valid) accept(label(b.spec), b);
  // A decompression "bomb" that is honest: 4000×4000 zeros in one deflate strip of ~16 KB. Valid, and large.
  const zeros: ValidSpec = {
    width: 4000,
    height: 4000,
    bitDepth: 8,
    compression: 'deflate',
    littleEndian: true,
    seed: 0,
  };
  files.push({
    name: 'deflate-8bit-4000x4000-zeros',
    bytes: writeRaw(tiffOfOneStrip(zeros, new Uint8Array(deflateSync(new Uint8Array(4000 * 4000))))),
    expect: { kind: 'accept', width: 4000, height: 4000, bitDepth: 8, pixels: new Uint8Array(4000 * 4000) },
  });

  // 2. Every compression with corrupt data, in strips and tiles, both byte orders.
  for (const b of valid.filter(
    (v) =>
      !v.spec.big &&
      !v.spec.predictor &&
      !v.spec.fillOrder &&
      !v.spec.minIsWhite &&
      !v.spec.nextIfd &&
      v.spec.height < 100,
  )) {
    const name = label(b.spec);
    const t = b.tiff;
    const last = t.chunks.length - 1;
    const withChunk = (k: number, data: Uint8Array) => {
      const c = clone(t);
      c.chunks[k] = data;
      const counts = c.tags.find((x) => x.tag === (t.offsetsTag === 273 ? 279 : 325))!;
      (counts.values as number[])[k] = data.length;
      return c;
    };
    // An empty strip (byte count 0).
    reject(`${name}/empty-chunk`, writeRaw(withChunk(last, new Uint8Array(0))));
    if (b.spec.compression === 'none') {
      reject(
        `${name}/short-byte-count`,
        writeRaw(withChunk(last, t.chunks[last].subarray(0, t.chunks[last].length - 3))),
      );
      continue;
    }
    // Cut short: the strip's data end early (its byte count says so too).
    reject(
      `${name}/truncated-chunk`,
      writeRaw(
        withChunk(last, t.chunks[last].subarray(0, Math.max(1, Math.floor(t.chunks[last].length / 3)))),
      ),
    );
    // Garbage in place of the data: certain to be rejected by each decoder (see why per compression).
    reject(
      `${name}/garbage-chunk`,
      writeRaw(withChunk(last, garbageFor(b.spec.compression, t.chunks[last].length))),
    );
  }

  // 3. Lying headers and bombs.
  const lzw = valid.find((v) => v.spec.compression === 'lzw' && !v.spec.tile && v.spec.bitDepth === 16)!;
  const jpegStrips = valid.find((v) => v.spec.compression === 'jpeg' && !v.spec.tile && v.spec.littleEndian)!;
  const jpegTiles = valid.find((v) => v.spec.compression === 'jpeg' && v.spec.tile && v.spec.littleEndian)!;
  const flat = Array.from({ length: 2 }, () => [128, 128]);
  for (const [base, what] of [
    [jpegStrips, 'strip'],
    [jpegTiles, 'tile'],
  ] as const) {
    for (const [w, h] of [
      [65500, 65500],
      [65500, 8],
      [8, 65500],
      [4096, 4096],
      [24, 64],
      [32, 16],
    ]) {
      const c = clone(base.tiff);
      c.chunks = c.chunks.map(() => jpegEncodeFlat(flat, { width: w, height: h }));
      c.tags.find((x) => x.tag === (what === 'strip' ? 279 : 325))!.values = c.chunks.map((x) => x.length);
      reject(`jpeg-${what}s-declaring-${w}x${h}`, writeRaw(c));
    }
    for (const [sof, kind] of [
      [0xc3, 'lossless'],
      [0xc9, 'arithmetic'],
      [0xc5, 'hierarchical'],
    ] as const) {
      const c = clone(base.tiff);
      c.chunks = c.chunks.map(() => jpegEncodeFlat(flat, undefined, sof));
      c.tags.find((x) => x.tag === (what === 'strip' ? 279 : 325))!.values = c.chunks.map((x) => x.length);
      reject(`jpeg-${what}s-${kind}`, writeRaw(c));
    }
    const noScan = clone(base.tiff);
    noScan.chunks = noScan.chunks.map((x) =>
      Uint8Array.from([...x.subarray(0, x.indexOf(0xda) - 1), 0xff, 0xd9]),
    );
    noScan.tags.find((x) => x.tag === (what === 'strip' ? 279 : 325))!.values = noScan.chunks.map(
      (x) => x.length,
    );
    reject(`jpeg-${what}s-without-scan`, writeRaw(noScan));
  }
  reject('jpeg-16bit', writeRaw(setTag(jpegStrips.tiff, 258, SHORT, [16])));
  reject(
    'jpeg-tables-corrupt',
    writeRaw(
      setTag(jpegStrips.tiff, 347, UNDEFINED, Uint8Array.of(0xff, 0xd8, 0xff, 0xc4, 0xff, 0xff, 1, 2, 3)),
    ),
  );
  // The 136-byte classic: 10000×10000 in 1×1 tiles.
  reject('tiles-10000x10000-of-1x1', writeRaw(tiledLie(10000, 10000, 1, 1, true)));
  reject('tiles-10000x10000-of-1x1-be', writeRaw(tiledLie(10000, 10000, 1, 1, false)));
  reject('tiles-width-0', writeRaw(tiledLie(16, 16, 0, 16, true)));
  reject('tiles-length-0', writeRaw(tiledLie(16, 16, 16, 0, false)));
  reject('tiles-65536-for-16x16', writeRaw(tiledLie(16, 16, 65536, 65536, true)));
  reject('strips-rows-per-strip-0', writeRaw(setTag(lzw.tiff, 278, LONG, [0])));
  reject(
    'strips-1-row-each-for-1000000-rows',
    writeRaw(setTag(setTag(lzw.tiff, 257, LONG, [1000000]), 278, LONG, [1])),
  );
  reject('pixels-65535x65535', writeRaw(setTag(setTag(lzw.tiff, 256, LONG, [65535]), 257, LONG, [65535])));
  reject('pixels-0-wide', writeRaw(setTag(lzw.tiff, 256, LONG, [0])));
  reject('strip-offsets-too-few', writeRaw(setTag(lzw.tiff, 273, LONG, [8])));
  reject(
    'strip-offset-beyond-file',
    writeRaw(
      setTag(
        lzw.tiff,
        273,
        LONG,
        lzw.tiff.chunks.map(() => 0xfffffff0),
      ),
    ),
  );
  reject(
    'strip-byte-count-beyond-file',
    writeRaw(
      setTag(
        lzw.tiff,
        279,
        LONG,
        lzw.tiff.chunks.map(() => 0x7fffffff),
      ),
    ),
  );
  for (const [c, what] of [
    [6, 'old-jpeg'],
    [34712, 'jpeg2000'],
    [50000, 'zstd'],
    [34887, 'lerc'],
    [2, 'ccitt'],
    [12345, 'unknown'],
  ] as const)
    reject(`compression-${what}`, writeRaw(setTag(lzw.tiff, 259, SHORT, [c])));
  reject('predictor-3', writeRaw(setTag(lzw.tiff, 317, SHORT, [3])));
  reject('predictor-7', writeRaw(setTag(lzw.tiff, 317, SHORT, [7])));
  // Decompression bombs: strips that decompress to far more than the strip holds.
  const bomb = {
    width: 64,
    height: 64,
    bitDepth: 16,
    compression: 'deflate',
    littleEndian: true,
    seed: 0,
  } as const;
  reject(
    'deflate-bomb-64MB-in-64x64',
    writeRaw(tiffOfOneStrip(bomb, new Uint8Array(deflateSync(new Uint8Array(64 << 20))))),
  );
  reject(
    'lzw-bomb-in-64x64',
    writeRaw(tiffOfOneStrip({ ...bomb, compression: 'lzw' }, lzwEncode(new Uint8Array(4 << 20)))),
  );
  reject(
    'packbits-bomb-in-64x64',
    writeRaw(
      tiffOfOneStrip(
        { ...bomb, compression: 'packbits' },
        new Uint8Array(200000).map((_, i) => (i % 2 ? 0 : 0x81)),
      ),
    ),
  );
  // IFD structure.
  const plain = valid.find(
    (v) => v.spec.compression === 'none' && !v.spec.tile && v.spec.bitDepth === 16 && v.spec.littleEndian,
  )!;
  const plainBytes = writeRaw(plain.tiff);
  const patched = (f: (dv: DataView) => void, from = plainBytes) => {
    const b = from.slice();
    f(new DataView(b.buffer));
    return b;
  };
  reject(
    'ifd-offset-beyond-file',
    patched((dv) => dv.setUint32(4, 0x7ffffff0, true)),
  );
  reject(
    'ifd-offset-inside-header',
    patched((dv) => dv.setUint32(4, 2, true)),
  );
  reject(
    'ifd-entry-count-65535',
    patched((dv) => dv.setUint16(8, 65535, true)),
  );
  reject(
    'ifd-entry-count-0',
    patched((dv) => dv.setUint16(8, 0, true)),
  );
  // A StripOffsets entry claiming 2³⁰ values (4 GB of offsets in a file of a few hundred bytes).
  reject(
    'strip-offsets-count-2^30',
    patched((dv) => dv.setUint32(entryOf(dv, 273) + 4, 1 << 30, true)),
  );
  reject(
    'strip-byte-counts-count-2^30',
    patched((dv) => dv.setUint32(entryOf(dv, 279) + 4, 1 << 30, true)),
  );
  const big = valid.find((v) => v.spec.big && v.spec.compression === 'none' && v.spec.littleEndian)!;
  const bigBytes = writeRaw(big.tiff);
  reject(
    'bigtiff-offset-size-4',
    patched((dv) => dv.setUint16(4, 4, true), bigBytes),
  );
  reject(
    'bigtiff-ifd-offset-2^60',
    patched((dv) => dv.setBigUint64(8, 1n << 60n, true), bigBytes),
  );
  reject(
    'bigtiff-entry-count-2^40',
    patched((dv) => dv.setBigUint64(16, 1n << 40n, true), bigBytes),
  );
  reject(
    'bigtiff-strip-offsets-2^62',
    writeRaw(
      setTag(
        big.tiff,
        273,
        LONG8,
        big.tiff.chunks.map(() => 2 ** 52),
      ),
    ),
  );

  // 4. Truncations of valid files at several points, both byte orders, every compression (always broken:
  //    the data come last in these files, so any cut takes pixels away).
  for (const b of valid.filter((_, i) => i % 3 === 0)) {
    const full = writeRaw(b.tiff);
    for (const f of [0.1, 0.5, 0.97])
      reject(`${label(b.spec)}/cut-at-${f}`, full.subarray(0, Math.max(17, Math.floor(full.length * f))));
  }

  // 5. Byte flips at deterministic random places (header, IFD, tag values, data). Only in layouts where
  //    geotiff, the test's independent reference for a flipped file we accept, is itself right: not
  //    big-endian with many strips or with a predictor, not FillOrder 2 (geotiff 3.0.5 misreads those).
  const rnd = prng(20240614);
  const trustworthy = valid.filter((v) => !v.spec.predictor && !v.spec.fillOrder && v.spec.height < 100);
  for (const b of trustworthy.filter((_, i) => i % 2 === 1)) {
    const full = writeRaw(b.tiff);
    for (let k = 0; k < 3; k++) {
      const at = Math.floor(rnd() * full.length);
      const flipped = full.slice();
      flipped[at] ^= 1 << Math.floor(rnd() * 8);
      either(`${label(b.spec)}/flip-bit-at-${at}`, flipped);
    }
  }

  // Distinct bytes only: the same bytes twice would be one upload (a 200 the second time).
  const seen = new Set<string>();
  return files.filter((f) => {
    const h = createHash('sha256').update(f.bytes).digest('hex');
    if (seen.has(h)) return false;
    seen.add(h);
    return true;
  });
}

/** Where IFD 0's entry for `tag` is in a little-endian classic TIFF. */
function entryOf(dv: DataView, tag: number): number {
  const ifd = dv.getUint32(4, true);
  for (let k = 0; k < dv.getUint16(ifd, true); k++) {
    if (dv.getUint16(ifd + 2 + 12 * k, true) === tag) return ifd + 2 + 12 * k;
  }
  throw new Error(`no tag ${tag}`);
}

/** Data that each decoder must reject, not merely decode to other pixels. */
function garbageFor(c: Compression, length: number): Uint8Array {
  const n = Math.max(length, 8);
  switch (c) {
    case 'lzw':
      return Uint8Array.from({ length: n }, () => 0xff); // code 511 first: not in the table
    case 'deflate':
    case 'adobe-deflate':
      return Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff); // bad zlib header
    case 'packbits':
      return Uint8Array.of(0x7f, 1, 2, 3); // a 128-byte literal run with 3 bytes
    case 'jpeg':
      return Uint8Array.from({ length: n }, (_, i) => (i * 13 + 1) & 0x7f); // no start-of-image marker
    case 'none':
      return new Uint8Array(n);
  }
}

function tiffOfOneStrip(s: Omit<ValidSpec, 'seed'> & { seed?: number }, data: Uint8Array): RawTiff {
  return {
    littleEndian: s.littleEndian,
    big: false,
    offsetsTag: 273,
    chunks: [data],
    tags: [
      { tag: 256, type: LONG, values: [s.width] },
      { tag: 257, type: LONG, values: [s.height] },
      { tag: 258, type: SHORT, values: [s.bitDepth] },
      { tag: 259, type: SHORT, values: [COMPRESSION_CODE[s.compression]] },
      { tag: 262, type: SHORT, values: [1] },
      { tag: 273, type: LONG, values: [0] },
      { tag: 278, type: LONG, values: [s.height] },
      { tag: 279, type: LONG, values: [data.length] },
    ],
  };
}

/** A tiled file whose TileOffsets/TileByteCounts hold one value however many tiles the sizes imply. */
function tiledLie(width: number, height: number, tw: number, th: number, littleEndian: boolean): RawTiff {
  return {
    littleEndian,
    big: false,
    offsetsTag: 324,
    chunks: [Uint8Array.of(0)],
    tags: [
      { tag: 256, type: LONG, values: [width] },
      { tag: 257, type: LONG, values: [height] },
      { tag: 258, type: SHORT, values: [8] },
      { tag: 259, type: SHORT, values: [1] },
      { tag: 262, type: SHORT, values: [1] },
      { tag: 322, type: LONG, values: [tw] },
      { tag: 323, type: LONG, values: [th] },
      { tag: 324, type: LONG, values: [0] },
      { tag: 325, type: LONG, values: [1] },
    ],
  };
}
