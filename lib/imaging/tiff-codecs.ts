/**
 * The decompressors behind `tiff-decode.ts`, written for hostile input: each one is told how many bytes the
 * strip or tile must yield (`need`) and the most it may yield (`cap`), never allocates more than `cap`, and
 * throws (a plain Error whose message the caller wraps as "corrupt") when the data end, or go wrong, before
 * `need` bytes came out. Nothing is padded: a short strip is an error, never made-up pixels.
 *
 * Why our own and not geotiff's: geotiff 3.0.5's LZW and PackBits decoders grow a JavaScript array without
 * bound and return whatever they produced (an empty or corrupt strip decoded to zero bytes, which its
 * `readRasters` then silently left as zeros); its deflate inflates the whole stream into memory whatever the
 * strip's size (a decompression bomb). JPEG stays geotiff's decoder, behind {@link checkJpeg}, which reads
 * the markers first so the decoder never sees a frame larger than its tile.
 *
 * All of this runs in browsers too (the client's viewer decodes with `decodeTiff`): no `node:` imports;
 * deflate uses the web-standard `DecompressionStream`.
 */

const LZW_CLEAR = 256;
const LZW_EOI = 257;

/**
 * TIFF LZW (TIFF 6.0 section 13: MSB-first codes of 9 to 12 bits, the width growing one code early, as
 * libtiff writes them). Stops at EOI or at the end of the data; more than `cap` bytes is an error.
 */
export function lzwDecode(src: Uint8Array, need: number, cap: number): Uint8Array {
  const out = new Uint8Array(cap);
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    first[i] = i;
    length[i] = 1;
  }
  const totalBits = src.length * 8;
  let bitPos = 0;
  let width = 9;
  let next = 258;
  let prev = -1;
  let o = 0;

  const tooMuch = () =>
    new Error(`its LZW data decompress to more than the ${cap} bytes the strip or tile holds`);
  /** Writes table entry `code` at `o` (walking its prefix chain backwards from the last byte). */
  const emit = (code: number): void => {
    const end = o + length[code];
    if (end > cap) throw tooMuch();
    let c = code;
    for (let at = end - 1; at >= o; at--) {
      out[at] = suffix[c];
      c = prefix[c];
    }
    o = end;
  };

  for (;;) {
    if (bitPos + width > totalBits) break; // data ended without EOI: judged by the byte count below
    let code = 0;
    for (let k = 0; k < width; k++) {
      const bit = (src[(bitPos + k) >>> 3] >>> (7 - ((bitPos + k) & 7))) & 1;
      code = (code << 1) | bit;
    }
    bitPos += width;
    if (code === LZW_EOI) break;
    if (code === LZW_CLEAR) {
      width = 9;
      next = 258;
      prev = -1;
      continue;
    }
    if (prev === -1) {
      if (code > 255) throw new Error(`its LZW data start with code ${code}, which is not in the table`);
      emit(code);
      prev = code;
      continue;
    }
    let head: number;
    if (code < next) {
      head = first[code];
      emit(code);
    } else if (code === next && next < 4096) {
      head = first[prev];
      emit(prev);
      if (o >= cap) throw tooMuch();
      out[o++] = head;
    } else {
      throw new Error(`its LZW data hold code ${code}, beyond the table's ${next} entries`);
    }
    if (next < 4096) {
      prefix[next] = prev;
      suffix[next] = head;
      first[next] = first[prev];
      length[next] = length[prev] + 1;
      next++;
      if (next + 1 >= 1 << width && width < 12) width++;
    }
    prev = code;
  }
  if (o < need) throw new Error(`its LZW data decompress to ${o} bytes where ${need} are needed`);
  return out.subarray(0, o);
}

/**
 * PackBits (TIFF 6.0 section 9). A run that would go beyond `cap` is an error; so are runs after the strip
 * is full. (libtiff only warns and drops them; a strip that says more than it holds is not trusted here.)
 */
export function packbitsDecode(src: Uint8Array, need: number, cap: number): Uint8Array {
  const out = new Uint8Array(cap);
  const tooMuch = () =>
    new Error(`its PackBits data decompress to more than the ${cap} bytes the strip or tile holds`);
  let i = 0;
  let o = 0;
  while (i < src.length) {
    const h = (src[i++] << 24) >> 24; // signed byte
    if (h >= 0) {
      const n = h + 1;
      if (i + n > src.length) throw new Error('its PackBits data end inside a literal run');
      if (o + n > cap) throw tooMuch();
      out.set(src.subarray(i, i + n), o);
      i += n;
      o += n;
    } else if (h !== -128) {
      if (i >= src.length) throw new Error('its PackBits data end inside a repeat run');
      const n = 1 - h;
      if (o + n > cap) throw tooMuch();
      out.fill(src[i++], o, o + n);
      o += n;
    }
  }
  if (o < need) throw new Error(`its PackBits data decompress to ${o} bytes where ${need} are needed`);
  return out.subarray(0, o);
}

/**
 * zlib-wrapped deflate (TIFF compression 8 and 32946) through `DecompressionStream`, read chunk by chunk and
 * abandoned as soon as it yields more than `cap` bytes, so a decompression bomb costs at most `cap` bytes.
 * Truncated or corrupt streams make the stream fail ("unexpected end of file", "invalid code lengths set").
 */
export async function inflate(src: Uint8Array, need: number, cap: number): Promise<Uint8Array> {
  const stream = new DecompressionStream('deflate');
  const writer = stream.writable.getWriter();
  // Errors surface on the reading side; these promises only must not be left unhandled.
  writer.write(src as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const out = new Uint8Array(cap);
  let o = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (o + value.length > cap) {
        throw new Error(`its deflate data decompress to more than the ${cap} bytes the strip or tile holds`);
      }
      out.set(value, o);
      o += value.length;
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    if (err instanceof TypeError || (err as { code?: string }).code?.startsWith('Z_'))
      throw new Error(`its deflate data are corrupt: ${(err as Error).message}`);
    throw err;
  }
  if (o < need) throw new Error(`its deflate data decompress to ${o} bytes where ${need} are needed`);
  return out.subarray(0, o);
}

export interface JpegFrame {
  width: number;
  height: number;
}

/** At most this many scans per strip or tile: a progressive JPEG needs ~10; each scan walks every block. */
const MAX_JPEG_SCANS = 64;

/**
 * Reads a JPEG stream's markers (the strip or tile, with the TIFF's JPEGTables before it) without decoding:
 * the frame must be 8-bit, one component, baseline/extended/progressive Huffman, and no larger than
 * `maxWidth`×`maxHeight`; there must be a scan, and at most {@link MAX_JPEG_SCANS}. This is what keeps a
 * 350-byte strip declaring 65500×65500 from ever reaching the decoder (which would allocate for it).
 */
export function checkJpeg(src: Uint8Array, maxWidth: number, maxHeight: number): JpegFrame {
  if (src.length < 4 || src[0] !== 0xff || src[1] !== 0xd8)
    throw new Error('its JPEG data do not start with a JPEG start-of-image marker');
  let frame: JpegFrame | null = null;
  let scans = 0;
  let i = 2;
  while (i + 4 <= src.length) {
    if (src[i] !== 0xff) throw new Error(`its JPEG data hold a byte ${src[i]} where a marker belongs`);
    const marker = src[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd9) break; // EOI
    if (marker >= 0xd0 && marker <= 0xd7) {
      i += 2;
      continue;
    }
    const segment = (src[i + 2] << 8) | src[i + 3];
    if (segment < 2 || i + 2 + segment > src.length)
      throw new Error('its JPEG data hold a segment that runs past their end');
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (frame) throw new Error('its JPEG data hold more than one frame');
      if (marker > 0xc2)
        throw new Error(
          `its JPEG data are ${marker === 0xc3 ? 'lossless' : 'arithmetic-coded or hierarchical'} (SOF${marker - 0xc0}), which Platina does not read`,
        );
      if (segment < 8) throw new Error('its JPEG frame header is cut short');
      const precision = src[i + 4];
      const height = (src[i + 5] << 8) | src[i + 6];
      const width = (src[i + 7] << 8) | src[i + 8];
      const components = src[i + 9];
      if (precision !== 8) throw new Error(`its JPEG data have ${precision}-bit samples, not 8`);
      if (components !== 1) throw new Error(`its JPEG data have ${components} components, not 1`);
      if (width === 0 || height === 0 || width > maxWidth || height > maxHeight) {
        throw new Error(
          `its JPEG data declare ${width}×${height} pixels where the strip or tile holds ${maxWidth}×${maxHeight}`,
        );
      }
      frame = { width, height };
    }
    i += 2 + segment;
    if (marker === 0xda) {
      if (!frame) throw new Error('its JPEG data start a scan before the frame header');
      if (++scans > MAX_JPEG_SCANS) throw new Error(`its JPEG data hold more than ${MAX_JPEG_SCANS} scans`);
      // Skip the entropy-coded data: up to the next marker that is neither a stuffed 0xFF00 nor a restart.
      while (i + 1 < src.length) {
        if (src[i] === 0xff && src[i + 1] !== 0 && !(src[i + 1] >= 0xd0 && src[i + 1] <= 0xd7)) break;
        i++;
      }
    }
  }
  if (!frame) throw new Error('its JPEG data hold no frame header');
  if (scans === 0) throw new Error('its JPEG data hold no scan (no pixel data)');
  return frame;
}
