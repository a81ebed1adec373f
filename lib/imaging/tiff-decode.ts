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
 * - Only the first image (IFD 0) is read; further pages (thumbnails, stacks) are ignored.
 * - Orientation tags are ignored (rows are taken top to bottom as stored), as most readers do.
 * - Uncompressed strip-organised files (the usual output of X-ray detectors, and the hot path) are copied
 *   straight out of the buffer with typed arrays; everything else (compression, tiles, predictors) goes
 *   through geotiff's `readRasters`, which is correct but ~10× slower (it reads every sample through a
 *   DataView). Both paths are tested to agree.
 */
import { fromArrayBuffer } from 'geotiff';
import type { GrayImage } from './gray-image.ts';

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
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes and validates a TIFF. Throws {@link InvalidImageError} for anything but 8/16-bit single-channel grayscale. */
export async function decodeTiff(
  input: ArrayBuffer | Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedTiff> {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const sniffed = sniffNonTiff(bytes);
  if (sniffed) throw new InvalidImageError(sniffed.reason, sniffed.what);
  // geotiff wants an ArrayBuffer holding exactly the file; copy only when given a view into a larger buffer.
  const buffer =
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
      ? bytes.buffer
      : bytes.slice().buffer;

  let header: TiffHeader;
  try {
    header = await readHeader(buffer);
  } catch (err) {
    throw asCorrupt(err);
  }
  const problem = describeUnsupported(header);
  if (problem) throw new InvalidImageError('unsupported', problem);
  const { width, height } = header;
  if (!(width > 0 && height > 0))
    throw new InvalidImageError('corrupt', `a corrupt TIFF (it declares ${width}×${height} pixels)`);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (width * height > maxPixels) {
    throw new InvalidImageError(
      'too_large',
      `${width}×${height} pixels, more than the limit of ${maxPixels} pixels`,
    );
  }

  const bitDepth = header.bitsPerSample[0] as 8 | 16;
  let data: Uint8Array | Uint16Array;
  try {
    data = header.fastPath
      ? copyUncompressedStrips(bytes, header, bitDepth)
      : await readWithGeotiff(header, bitDepth);
  } catch (err) {
    throw asCorrupt(err);
  }
  const invertedMinIsWhite = header.photometric === 0;
  if (invertedMinIsWhite) {
    const max = bitDepth === 16 ? 65535 : 255;
    for (let i = 0; i < data.length; i++) data[i] = max - data[i];
  }
  return bitDepth === 16
    ? { width, height, bitDepth, data: data as Uint16Array, invertedMinIsWhite }
    : { width, height, bitDepth, data: data as Uint8Array, invertedMinIsWhite };
}

interface TiffHeader {
  width: number;
  height: number;
  samplesPerPixel: number;
  bitsPerSample: number[];
  /** 1 unsigned (also when the tag is absent), 2 signed, 3 float, 4 undefined. */
  sampleFormat: number;
  photometric: number | undefined;
  littleEndian: boolean;
  fastPath: boolean;
  stripOffsets: number[];
  stripByteCounts: number[];
  rowsPerStrip: number;
  image: Awaited<ReturnType<Awaited<ReturnType<typeof fromArrayBuffer>>['getImage']>>;
}

async function readHeader(buffer: ArrayBuffer): Promise<TiffHeader> {
  const tiff = await fromArrayBuffer(buffer);
  const image = await tiff.getImage(0);
  const fd = image.getFileDirectory();
  const samplesPerPixel = image.getSamplesPerPixel();
  const bps = (await fd.loadValue('BitsPerSample')) as ArrayLike<number> | number | undefined;
  const bitsPerSample = bps === undefined ? [1] : typeof bps === 'number' ? [bps] : Array.from(bps);
  const sf = (await fd.loadValue('SampleFormat')) as ArrayLike<number> | number | undefined;
  const sampleFormat = sf === undefined ? 1 : typeof sf === 'number' ? sf : (sf[0] ?? 1);
  const photometric = fd.getValue('PhotometricInterpretation') as number | undefined;
  const compression = (fd.getValue('Compression') as number | undefined) ?? 1;
  const predictor = ((await fd.loadValue('Predictor')) as number | undefined) ?? 1;
  const fillOrder = ((await fd.loadValue('FillOrder')) as number | undefined) ?? 1;
  const fastPath = compression === 1 && !image.isTiled && predictor === 1 && fillOrder === 1;
  const toNumbers = (v: unknown): number[] =>
    v === undefined ? [] : typeof v === 'number' ? [v] : Array.from(v as ArrayLike<number | bigint>, Number);
  return {
    width: image.getWidth(),
    height: image.getHeight(),
    samplesPerPixel,
    bitsPerSample,
    sampleFormat,
    photometric,
    littleEndian: image.littleEndian,
    fastPath,
    stripOffsets: fastPath ? toNumbers(await fd.loadValue('StripOffsets')) : [],
    stripByteCounts: fastPath ? toNumbers(await fd.loadValue('StripByteCounts')) : [],
    rowsPerStrip: (fd.getValue('RowsPerStrip') as number | undefined) ?? image.getHeight(),
    image,
  };
}

function copyUncompressedStrips(
  bytes: Uint8Array,
  h: TiffHeader,
  bitDepth: 8 | 16,
): Uint8Array | Uint16Array {
  const bytesPerPixel = bitDepth / 8;
  const rowBytes = h.width * bytesPerPixel;
  const total = rowBytes * h.height;
  const out = new Uint8Array(total);
  const rowsPerStrip = Math.min(h.rowsPerStrip, h.height);
  const strips = Math.ceil(h.height / rowsPerStrip);
  if (h.stripOffsets.length < strips) {
    throw new Error(`it lists ${h.stripOffsets.length} strips where ${strips} are needed`);
  }
  for (let s = 0; s < strips; s++) {
    const start = s * rowsPerStrip * rowBytes;
    const length = Math.min(rowsPerStrip * rowBytes, total - start);
    const offset = h.stripOffsets[s];
    if (offset + length > bytes.length) {
      throw new Error(
        `strip ${s + 1} of ${strips} ends at byte ${offset + length}, but the file has ${bytes.length} bytes`,
      );
    }
    out.set(bytes.subarray(offset, offset + length), start);
  }
  if (bitDepth === 8) return out;
  const px = new Uint16Array(out.buffer);
  if (h.littleEndian !== HOST_IS_LITTLE_ENDIAN) {
    for (let i = 0; i < px.length; i++) {
      const v = px[i];
      px[i] = ((v & 0xff) << 8) | (v >>> 8);
    }
  }
  return px;
}

async function readWithGeotiff(h: TiffHeader, bitDepth: 8 | 16): Promise<Uint8Array | Uint16Array> {
  const raster = await h.image.readRasters({ interleave: true, samples: [0] });
  // Fresh views: geotiff decorates its arrays with width/height properties.
  if (bitDepth === 16 && raster instanceof Uint16Array)
    return new Uint16Array(raster.buffer, raster.byteOffset, raster.length);
  if (bitDepth === 8 && raster instanceof Uint8Array)
    return new Uint8Array(raster.buffer, raster.byteOffset, raster.length);
  throw new Error(`geotiff returned ${raster.constructor.name} for a ${bitDepth}-bit image`);
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
function describeUnsupported(
  h: Pick<TiffHeader, 'samplesPerPixel' | 'bitsPerSample' | 'sampleFormat' | 'photometric'>,
): string | null {
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
