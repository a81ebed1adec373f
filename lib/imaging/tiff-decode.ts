/**
 * Decoding and validation of uploaded TIFFs. Platina accepts exactly one kind of image: a single-channel
 * 8- or 16-bit unsigned grayscale TIFF (the paper's data are 16-bit, section 2.2). Anything else is
 * rejected with an {@link InvalidImageError} whose message says what the file is instead, so a user can act.
 *
 * Decisions:
 * - MinIsWhite (PhotometricInterpretation 0) images are accepted and inverted on decode
 *   (`v → max − v`), so that everything downstream (statistics, the paper's conversions, the model) sees
 *   "higher = brighter" like a MinIsBlack image. The stored original bytes (`/raw`) are not changed; the
 *   result says `invertedMinIsWhite` so the caller can record it.
 * - Only the first image (IFD 0) is read; the next-IFD chain is never followed, so an IFD loop costs nothing.
 *   Classic TIFF and BigTIFF, either byte order.
 * - Orientation tags are ignored (rows are taken top to bottom as stored), as most readers do.
 * - Compressions read: none, LZW, deflate (8 and 32946), PackBits, and JPEG (7) for 8-bit images; with
 *   horizontal differencing (Predictor 2) and FillOrder 2. Anything else is `unsupported`, named.
 *
 * Uploads are hostile input (issue 14: a 350-byte file declaring a 65500×65500 JPEG frame, a 136-byte file of
 * 10000×10000 one-pixel tiles). So the file's structure is read by our own parser, not geotiff's, and the whole
 * layout is checked against the file before anything is allocated:
 * - every tag value we read lies inside the file (so a tag cannot make us read or allocate past it: 10⁸ tile
 *   offsets need 400 MB of file);
 * - pixels ≤ `maxPixels`; one strip or tile decodes to at most max(image bytes, 4 MiB); at most 2²⁰ of them;
 * - every strip/tile lies inside the file and is not empty; uncompressed ones hold all their bytes;
 * - JPEG frames are read from their markers and must fit their tile (`checkJpeg`).
 * Then each strip or tile is decompressed with a bound on its output (`tiff-codecs.ts`) and must yield every
 * byte it owes: a short, empty or corrupt strip is `corrupt`, never zeros. The worst-case memory of a decode is
 * therefore the output (≤ 2 × `maxPixels` bytes) plus one strip or tile, and its time is linear in the file's
 * bytes plus the image's pixels. Strip offsets are read by us too: geotiff 3.0.5's `DeferredArray.loadAll`
 * reads them little-endian whatever the file's byte order, which rejected valid big-endian files with many
 * strips. geotiff remains only as the JPEG entropy decoder.
 */
import { getDecoder } from 'geotiff';
import type { GrayImage } from './gray-image.ts';
import { checkJpeg, inflate, lzwDecode, packbitsDecode } from './tiff-codecs.ts';

export type InvalidImageReason = 'not_tiff' | 'unsupported' | 'corrupt' | 'too_large';

/** The upload is not an image Platina can use. `what` describes what it is instead ("an RGB TIFF with ..."). */
export class InvalidImageError extends Error {
  override readonly name = 'InvalidImageError';
  constructor(
    readonly reason: InvalidImageReason,
    readonly what: string,
  ) {
    super(
      reason === 'too_large'
        ? `The image is too large: it is ${what}.`
        : `Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is ${what}.`,
    );
  }
}

export type DecodedTiff = GrayImage & { invertedMinIsWhite: boolean };

export interface DecodeOptions {
  /** Refuse images with more pixels than this before allocating (decompression bombs). Default 100 million. */
  maxPixels?: number;
}

const DEFAULT_MAX_PIXELS = 100_000_000;
/** Most strips or tiles in one image: 2²⁰ (a 1-row strip per row of a 1-million-row image). */
const MAX_CHUNKS = 1 << 20;
/** A strip or tile may decode to more bytes than the image only up to this (small images in 256×256 tiles). */
const MIN_CHUNK_CAP = 4 << 20;
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes and validates a TIFF. Throws {@link InvalidImageError} for anything but 8/16-bit single-channel grayscale. */
export async function decodeTiff(
  input: ArrayBuffer | Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedTiff> {
  // A plain Uint8Array view even of a Node Buffer, whose `slice` would share memory instead of copying.
  const bytes =
    input instanceof Uint8Array
      ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
      : new Uint8Array(input);
  const sniffed = sniffNonTiff(bytes);
  if (sniffed) throw new InvalidImageError(sniffed.reason, sniffed.what);
  const layout = readLayout(bytes, options.maxPixels ?? DEFAULT_MAX_PIXELS);
  let data: Uint8Array | Uint16Array;
  try {
    data = await assemble(bytes, layout);
  } catch (err) {
    throw asCorrupt(err);
  }
  const { width, height, bitDepth } = layout;
  const invertedMinIsWhite = layout.photometric === 0;
  if (invertedMinIsWhite) {
    const max = bitDepth === 16 ? 65535 : 255;
    for (let i = 0; i < data.length; i++) data[i] = max - data[i];
  }
  return bitDepth === 16
    ? { width, height, bitDepth, data: data as Uint16Array, invertedMinIsWhite }
    : { width, height, bitDepth, data: data as Uint8Array, invertedMinIsWhite };
}

// ---------------------------------------------------------------------------------------------------------
// The file's structure: header and IFD 0, every value bounds-checked against the file.

/** Byte size of each TIFF field type (TIFF 6.0 section 2; 16–18 from BigTIFF). */
const TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};
const TAG_NAMES: Record<number, string> = {
  256: 'ImageWidth',
  257: 'ImageLength',
  258: 'BitsPerSample',
  259: 'Compression',
  262: 'PhotometricInterpretation',
  266: 'FillOrder',
  273: 'StripOffsets',
  277: 'SamplesPerPixel',
  278: 'RowsPerStrip',
  279: 'StripByteCounts',
  317: 'Predictor',
  322: 'TileWidth',
  323: 'TileLength',
  324: 'TileOffsets',
  325: 'TileByteCounts',
  339: 'SampleFormat',
  347: 'JPEGTables',
};

interface Entry {
  type: number;
  count: number;
  /** Where the values are: inside the entry or at the offset it holds (checked when read). */
  at: number;
}

class Ifd {
  private readonly dv: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
    readonly big: boolean,
    private readonly entries: Map<number, Entry>,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  /** The first value of an integer tag, or `fallback` when the tag is absent. */
  one(tag: number, fallback: number): number;
  one(tag: number): number | undefined;
  one(tag: number, fallback?: number): number | undefined {
    const e = this.entries.get(tag);
    if (!e) return fallback;
    if (e.count < 1) throw new Error(`its ${name(tag)} tag holds no value`);
    return this.numbers(tag, 1)[0];
  }

  /** The first `limit` values of an integer tag (all when omitted); every byte read lies inside the file. */
  numbers(tag: number, limit = Infinity): number[] {
    const e = this.entries.get(tag);
    if (!e) return [];
    const size = TYPE_SIZE[e.type];
    if (![1, 3, 4, 13, 16, 18].includes(e.type))
      throw new Error(`its ${name(tag)} tag has field type ${e.type}, not an unsigned integer`);
    this.checkInside(tag, e);
    const n = Math.min(e.count, limit);
    const out = new Array<number>(n);
    const le = this.littleEndian;
    for (let i = 0; i < n; i++) {
      const at = e.at + i * size;
      out[i] =
        size === 1
          ? this.bytes[at]
          : size === 2
            ? this.dv.getUint16(at, le)
            : size === 4
              ? this.dv.getUint32(at, le)
              : readU64(this.dv, at, le);
    }
    return out;
  }

  /** The raw bytes of a tag (JPEGTables). */
  raw(tag: number): Uint8Array | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    this.checkInside(tag, e);
    return this.bytes.subarray(e.at, e.at + e.count * (TYPE_SIZE[e.type] ?? 1));
  }

  private checkInside(tag: number, e: Entry): void {
    const end = e.at + e.count * (TYPE_SIZE[e.type] ?? 1);
    if (!(end <= this.bytes.length)) {
      throw new Error(
        `its ${name(tag)} tag lists ${e.count} values that would end at byte ${end}, but the file has ${this.bytes.length} bytes`,
      );
    }
  }
}

function name(tag: number): string {
  return TAG_NAMES[tag] ?? `tag ${tag}`;
}

/** An unsigned 64-bit value as a number; beyond 2⁵³ it is Infinity (no file is that large). */
function readU64(dv: DataView, at: number, le: boolean): number {
  const lo = dv.getUint32(at + (le ? 0 : 4), le);
  const hi = dv.getUint32(at + (le ? 4 : 0), le);
  return hi >= 1 << 21 ? Infinity : hi * 2 ** 32 + lo;
}

function readIfd(bytes: Uint8Array): Ifd {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = bytes[0] === 0x49;
  const big = dv.getUint16(2, le) === 43;
  let ifdAt: number;
  if (big) {
    if (dv.getUint16(4, le) !== 8 || dv.getUint16(6, le) !== 0)
      throw new Error('its BigTIFF header declares an offset size other than 8');
    ifdAt = readU64(dv, 8, le);
  } else ifdAt = dv.getUint32(4, le);
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  if (ifdAt < (big ? 16 : 8) || !(ifdAt + countSize <= bytes.length)) {
    throw new Error(`its first IFD is at byte ${ifdAt}, outside the file of ${bytes.length} bytes`);
  }
  const count = big ? readU64(dv, ifdAt, le) : dv.getUint16(ifdAt, le);
  if (count === 0) throw new Error('its first IFD has no entries');
  if (!(ifdAt + countSize + count * entrySize <= bytes.length))
    throw new Error(`its first IFD lists ${count} entries that run past the end of the file`);
  const entries = new Map<number, Entry>();
  for (let k = 0; k < count; k++) {
    const e = ifdAt + countSize + k * entrySize;
    const tag = dv.getUint16(e, le);
    const type = dv.getUint16(e + 2, le);
    const n = big ? readU64(dv, e + 4, le) : dv.getUint32(e + 4, le);
    const valueAt = e + (big ? 12 : 8);
    const inline = n * (TYPE_SIZE[type] ?? 1) <= (big ? 8 : 4);
    const at = inline ? valueAt : big ? readU64(dv, valueAt, le) : dv.getUint32(valueAt, le);
    if (!entries.has(tag)) entries.set(tag, { type, count: n, at });
  }
  return new Ifd(bytes, le, big, entries);
}

// ---------------------------------------------------------------------------------------------------------
// The layout: everything checked before a pixel is allocated.

const COMPRESSIONS: Record<number, string> = {
  1: 'none',
  5: 'LZW',
  7: 'JPEG',
  8: 'deflate',
  32946: 'deflate',
  32773: 'PackBits',
};
const UNSUPPORTED_COMPRESSIONS: Record<number, string> = {
  2: 'CCITT modified Huffman',
  3: 'CCITT fax 3',
  4: 'CCITT fax 4',
  6: 'old-style JPEG',
  34712: 'JPEG 2000',
  34887: 'LERC',
  34925: 'LZMA',
  50000: 'Zstandard',
  50001: 'WebP',
};

interface Layout {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  photometric: number;
  littleEndian: boolean;
  compression: number;
  predictor: number;
  fillOrder: number;
  tiled: boolean;
  /** Strip or tile width and height in pixels (a strip is `width` wide, RowsPerStrip high). */
  chunkWidth: number;
  chunkHeight: number;
  across: number;
  chunks: number;
  offsets: number[];
  byteCounts: number[];
  jpegTables: Uint8Array | undefined;
}

function readLayout(bytes: Uint8Array, maxPixels: number): Layout {
  let ifd: Ifd;
  try {
    ifd = readIfd(bytes);
  } catch (err) {
    throw asCorrupt(err);
  }
  const corrupt = (detail: string) =>
    new InvalidImageError('corrupt', `a truncated or corrupt TIFF (${detail})`);
  try {
    const width = ifd.one(256);
    const height = ifd.one(257);
    if (width === undefined || height === undefined)
      throw corrupt(`it has no ${width === undefined ? 'ImageWidth' : 'ImageLength'} tag`);
    const bitsPerSample = ifd.numbers(258, 16);
    const header = {
      samplesPerPixel: ifd.one(277, 1),
      bitsPerSample: bitsPerSample.length ? bitsPerSample : [1],
      sampleFormat: ifd.one(339, 1),
      photometric: ifd.one(262),
    };
    const problem = describeUnsupported(header);
    if (problem) throw new InvalidImageError('unsupported', problem);
    if (!(width > 0 && height > 0))
      throw new InvalidImageError('corrupt', `a corrupt TIFF (it declares ${width}×${height} pixels)`);
    if (width * height > maxPixels) {
      throw new InvalidImageError(
        'too_large',
        `${width}×${height} pixels, more than the limit of ${maxPixels} pixels`,
      );
    }
    const bitDepth = header.bitsPerSample[0] as 8 | 16;
    const bpp = bitDepth / 8;

    const compression = ifd.one(259, 1);
    if (!COMPRESSIONS[compression]) {
      const known = UNSUPPORTED_COMPRESSIONS[compression];
      throw new InvalidImageError(
        'unsupported',
        `a TIFF compressed with ${known ? `${known} (compression ${compression})` : `an unknown method (compression ${compression})`}, which Platina does not read`,
      );
    }
    if (compression === 7 && bitDepth !== 8)
      throw new InvalidImageError(
        'unsupported',
        `a ${bitDepth}-bit JPEG-compressed TIFF (JPEG holds 8 bits)`,
      );
    const predictor = ifd.one(317, 1);
    if (predictor === 3)
      throw new InvalidImageError('unsupported', 'a TIFF with the floating-point predictor (Predictor 3)');
    if (predictor !== 1 && predictor !== 2) throw corrupt(`it declares Predictor ${predictor}`);
    const fillOrder = ifd.one(266, 1);
    if (fillOrder !== 1 && fillOrder !== 2) throw corrupt(`it declares FillOrder ${fillOrder}`);

    const tiled = ifd.has(322) || ifd.has(323) || ifd.has(324);
    const what = tiled ? 'tile' : 'strip';
    let chunkWidth: number;
    let chunkHeight: number;
    if (tiled) {
      chunkWidth = ifd.one(322, 0);
      chunkHeight = ifd.one(323, 0);
      if (!(chunkWidth > 0 && chunkHeight > 0))
        throw corrupt(`it declares tiles of ${chunkWidth}×${chunkHeight} pixels`);
    } else {
      const rowsPerStrip = ifd.one(278, height);
      if (!(rowsPerStrip > 0)) throw corrupt(`it declares RowsPerStrip ${rowsPerStrip}`);
      chunkWidth = width;
      chunkHeight = Math.min(rowsPerStrip, height);
    }
    const imageBytes = width * height * bpp;
    const cap = Math.max(imageBytes, MIN_CHUNK_CAP);
    if (chunkWidth * chunkHeight * bpp > cap)
      throw corrupt(
        `its ${chunkWidth}×${chunkHeight}-pixel tiles are far larger than the ${width}×${height} image`,
      );
    const across = Math.ceil(width / chunkWidth);
    const chunks = across * Math.ceil(height / chunkHeight);
    if (chunks > MAX_CHUNKS) throw corrupt(`it is cut into ${chunks} ${what}s, more than ${MAX_CHUNKS}`);

    const offsetsTag = tiled ? 324 : 273;
    const countsTag = tiled ? 325 : 279;
    const offsets = ifd.numbers(offsetsTag, chunks);
    if (offsets.length < chunks)
      throw corrupt(`it lists ${offsets.length} ${what}s where ${chunks} are needed`);
    let byteCounts = ifd.numbers(countsTag, chunks);
    const chunkRowBytes = chunkWidth * bpp;
    // A strip owes its rows (the last one fewer); a tile always owes all of them (TIFF 6.0 section 15).
    const needOf = (k: number) =>
      tiled
        ? chunkHeight * chunkRowBytes
        : Math.min(chunkHeight, height - Math.floor(k / across) * chunkHeight) * chunkRowBytes;
    if (byteCounts.length === 0 && compression === 1) {
      byteCounts = offsets.map((_, k) => needOf(k)); // absent: baseline readers infer it for raw data
    }
    if (byteCounts.length < chunks)
      throw corrupt(`it lists ${byteCounts.length} ${what} byte counts where ${chunks} are needed`);
    for (let k = 0; k < chunks; k++) {
      const label = `${what} ${k + 1} of ${chunks}`;
      const need = needOf(k);
      const end = offsets[k] + (compression === 1 ? need : byteCounts[k]);
      if (!(end <= bytes.length))
        throw corrupt(`${label} ends at byte ${end}, but the file has ${bytes.length} bytes`);
      if (byteCounts[k] === 0) throw corrupt(`${label} is empty`);
      if (compression === 1 && byteCounts[k] < need)
        throw corrupt(`${label} holds ${byteCounts[k]} bytes where ${need} are needed`);
    }
    return {
      width,
      height,
      bitDepth,
      photometric: header.photometric ?? 1,
      littleEndian: ifd.littleEndian,
      compression,
      predictor,
      fillOrder,
      tiled,
      chunkWidth,
      chunkHeight,
      across,
      chunks,
      offsets,
      byteCounts,
      jpegTables: compression === 7 ? ifd.raw(347) : undefined,
    };
  } catch (err) {
    throw asCorrupt(err);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding: one strip or tile at a time, into the one output buffer.

async function assemble(bytes: Uint8Array, l: Layout): Promise<Uint8Array | Uint16Array> {
  const bpp = l.bitDepth / 8;
  const rowBytes = l.width * bpp;
  const chunkRowBytes = l.chunkWidth * bpp;
  const cap = l.chunkHeight * chunkRowBytes;
  const out = new Uint8Array(l.width * l.height * bpp);
  const swap = bpp === 2 && !l.littleEndian; // bytes are brought to little-endian order per chunk
  const jpeg =
    l.compression === 7
      ? await getDecoder(7, {
          tileWidth: l.chunkWidth,
          tileHeight: l.chunkHeight,
          planarConfiguration: 1,
          bitsPerSample: 8,
          predictor: 1,
          JPEGTables: l.jpegTables,
        } as Parameters<typeof getDecoder>[1])
      : null;
  const what = l.tiled ? 'tile' : 'strip';

  for (let k = 0; k < l.chunks; k++) {
    const x0 = (k % l.across) * l.chunkWidth;
    const y0 = Math.floor(k / l.across) * l.chunkHeight;
    const rows = Math.min(l.chunkHeight, l.height - y0);
    const cols = Math.min(l.chunkWidth, l.width - x0);
    const need = (l.tiled ? l.chunkHeight : rows) * chunkRowBytes; // as in readLayout
    let src = bytes.subarray(l.offsets[k], l.offsets[k] + (l.compression === 1 ? need : l.byteCounts[k]));
    if (l.fillOrder === 2) src = reverseBits(src);
    let chunk: Uint8Array;
    try {
      chunk = await decompress(l, src, need, cap, jpeg, rows);
    } catch (err) {
      throw new Error(`${what} ${k + 1} of ${l.chunks}: ${(err as Error).message}`);
    }
    if ((swap || l.predictor === 2) && chunk.buffer === bytes.buffer) chunk = chunk.slice(0, need);
    if (swap) swapPairs(chunk, need);
    if (l.predictor === 2) undoDifferencing(chunk, rows, l.chunkWidth, bpp);
    if (!l.tiled) out.set(chunk.subarray(0, need), y0 * rowBytes);
    else {
      for (let r = 0; r < rows; r++) {
        const from = r * chunkRowBytes;
        out.set(chunk.subarray(from, from + cols * bpp), (y0 + r) * rowBytes + x0 * bpp);
      }
    }
  }
  if (bpp === 1) return out;
  const px = new Uint16Array(out.buffer);
  if (!HOST_IS_LITTLE_ENDIAN) swapPairs(out, out.length);
  return px;
}

async function decompress(
  l: Layout,
  src: Uint8Array,
  need: number,
  cap: number,
  jpeg: Awaited<ReturnType<typeof getDecoder>> | null,
  rows: number,
): Promise<Uint8Array> {
  switch (l.compression) {
    case 1:
      return src;
    case 5:
      return lzwDecode(src, need, cap);
    case 8:
    case 32946:
      return inflate(src, need, cap);
    case 32773:
      return packbitsDecode(src, need, cap);
    case 7: {
      const frame = checkJpeg(src, l.chunkWidth, l.chunkHeight);
      if (frame.width !== l.chunkWidth || frame.height < rows) {
        throw new Error(
          `its JPEG data declare ${frame.width}×${frame.height} pixels where ${l.chunkWidth}×${rows} are needed`,
        );
      }
      const decoded = new Uint8Array(await jpeg!.decode(src.slice().buffer));
      if (decoded.length < need)
        throw new Error(`its JPEG data decode to ${decoded.length} bytes where ${need} are needed`);
      return decoded;
    }
    default:
      throw new Error(`compression ${l.compression}`);
  }
}

function reverseBits(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let b = src[i];
    b = ((b & 0xf0) >>> 4) | ((b & 0x0f) << 4);
    b = ((b & 0xcc) >>> 2) | ((b & 0x33) << 2);
    out[i] = ((b & 0xaa) >>> 1) | ((b & 0x55) << 1);
  }
  return out;
}

function swapPairs(b: Uint8Array, length: number): void {
  for (let i = 0; i + 1 < length; i += 2) {
    const t = b[i];
    b[i] = b[i + 1];
    b[i + 1] = t;
  }
}

/** Predictor 2 (TIFF 6.0 section 14): each sample was stored as its difference to the one on its left. */
function undoDifferencing(b: Uint8Array, rows: number, width: number, bpp: number): void {
  const rowBytes = width * bpp;
  for (let r = 0; r < rows; r++) {
    const row = r * rowBytes;
    if (bpp === 1) {
      for (let x = 1; x < width; x++) b[row + x] = (b[row + x] + b[row + x - 1]) & 0xff;
    } else {
      let prev = b[row] | (b[row + 1] << 8);
      for (let x = 1; x < width; x++) {
        const at = row + 2 * x;
        prev = (prev + (b[at] | (b[at + 1] << 8))) & 0xffff;
        b[at] = prev & 0xff;
        b[at + 1] = prev >>> 8;
      }
    }
  }
}

function asCorrupt(err: unknown): InvalidImageError {
  if (err instanceof InvalidImageError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new InvalidImageError('corrupt', `a truncated or corrupt TIFF (${detail})`);
}

const PHOTOMETRIC_NAMES: Record<number, string> = {
  2: 'an RGB TIFF',
  3: 'a palette-colour TIFF',
  4: 'a transparency-mask TIFF',
  5: 'a CMYK TIFF',
  6: 'a YCbCr (colour) TIFF',
  8: 'a CIELab colour TIFF',
  9: 'an ICCLab colour TIFF',
  10: 'an ITULab colour TIFF',
  32844: 'a LogL (high-dynamic-range) TIFF',
  32845: 'a LogLuv (high-dynamic-range colour) TIFF',
};

/** Null when the header describes a supported image, else what the image is, in words. */
function describeUnsupported(h: {
  samplesPerPixel: number;
  bitsPerSample: number[];
  /** 1 unsigned (also when the tag is absent), 2 signed, 3 float, 4 undefined. */
  sampleFormat: number;
  photometric: number | undefined;
}): string | null {
  const bits = h.bitsPerSample[0];
  const spp = h.samplesPerPixel;
  const sampleKind =
    h.sampleFormat === 3 ? `${bits}-bit float` : h.sampleFormat === 2 ? `${bits}-bit signed` : `${bits} bits`;
  const photometric = h.photometric ?? 1; // absent: baseline readers assume grayscale
  if (photometric !== 0 && photometric !== 1) {
    const name =
      PHOTOMETRIC_NAMES[photometric] ?? `a TIFF with colour model ${photometric} (PhotometricInterpretation)`;
    return `${name} with ${spp} ${spp === 1 ? 'sample' : 'samples'} per pixel of ${sampleKind}`;
  }
  if (spp !== 1) {
    return `a grayscale TIFF with ${spp} samples per pixel (an extra channel such as alpha) of ${sampleKind}`;
  }
  if (h.sampleFormat === 3) return `a ${bits}-bit float TIFF`;
  if (h.sampleFormat === 2) return `a signed ${bits}-bit integer TIFF`;
  if (h.sampleFormat !== 1)
    return `a TIFF with sample format ${h.sampleFormat} (neither unsigned, signed nor float)`;
  if (bits === 1) return 'a 1-bit black-and-white TIFF';
  if (bits !== 8 && bits !== 16) return `a ${bits}-bit grayscale TIFF`;
  return null;
}

/** Known file signatures, so a wrong upload is named ("a PNG") rather than just "not a TIFF". */
const SIGNATURES: { bytes: number[]; at?: number; name: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], name: 'a PNG' },
  { bytes: [0xff, 0xd8, 0xff], name: 'a JPEG' },
  { bytes: [0x47, 0x49, 0x46, 0x38], name: 'a GIF' },
  { bytes: [0x42, 0x4d], name: 'a BMP' },
  { bytes: [0x25, 0x50, 0x44, 0x46], name: 'a PDF' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], name: 'a ZIP archive' },
  { bytes: [0x1f, 0x8b], name: 'a gzip archive' },
  { bytes: [0x57, 0x45, 0x42, 0x50], at: 8, name: 'a WebP' },
  { bytes: [0x44, 0x49, 0x43, 0x4d], at: 128, name: 'a DICOM file' },
  { bytes: [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50], name: 'a JPEG 2000' },
  { bytes: [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], name: 'a NumPy array (.npy)' },
];

function sniffNonTiff(b: Uint8Array): { reason: InvalidImageReason; what: string } | null {
  if (b.length === 0) return { reason: 'not_tiff', what: 'an empty file (0 bytes)' };
  const isTiff =
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43)));
  if (isTiff)
    return b.length < 16 ? { reason: 'corrupt', what: `a truncated TIFF (only ${b.length} bytes)` } : null;
  const head = Array.from(b.subarray(0, 4), (x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');
  const match = SIGNATURES.find(({ bytes, at = 0 }) => bytes.every((x, i) => b[at + i] === x));
  return {
    reason: 'not_tiff',
    what: `not a TIFF (starts with bytes ${head}${match ? `: ${match.name}` : ''})`,
  };
}
