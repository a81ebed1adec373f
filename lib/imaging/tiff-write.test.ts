import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromArrayBuffer } from 'geotiff';
import { encodeTiff, tiffByteLength, tiffChunks, writeTiff } from './tiff-write.ts';

async function decodeWithGeotiff(bytes: Uint8Array) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const image = await (await fromArrayBuffer(buffer)).getImage(0);
  const fd = image.getFileDirectory();
  const raster = await image.readRasters({ interleave: true });
  return {
    width: image.getWidth(),
    height: image.getHeight(),
    samples: image.getSamplesPerPixel(),
    bits: fd.getValue('BitsPerSample'),
    photometric: fd.getValue('PhotometricInterpretation'),
    compression: fd.getValue('Compression'),
    littleEndian: image.littleEndian,
    raster: ArrayBuffer.isView(raster) ? (raster as Uint8Array | Uint16Array).slice() : raster,
  };
}

function ramp16(width: number, height: number): Uint16Array {
  const px = new Uint16Array(width * height);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) % 65536; // covers high and low bytes
  return px;
}

describe('tiff-write', () => {
  test('a 16-bit image with many strips decodes with geotiff to the same pixels and baseline tags', async () => {
    const width = 37;
    const height = 23; // not a multiple of rowsPerStrip: the last strip is short
    const px = ramp16(width, height);
    const bytes = encodeTiff({ width, height, bitDepth: 16, rowsPerStrip: 5 }, px);
    const d = await decodeWithGeotiff(bytes);
    assert.equal(d.width, width);
    assert.equal(d.height, height);
    assert.equal(d.samples, 1);
    assert.equal(Number(d.bits), 16);
    assert.equal(d.photometric, 1);
    assert.equal(d.compression, 1);
    assert.equal(d.littleEndian, true);
    assert.ok(d.raster instanceof Uint16Array);
    assert.deepEqual(d.raster, px);
  });

  test('an 8-bit image in one strip decodes with geotiff to the same pixels', async () => {
    const width = 1;
    const height = 9;
    const px = Uint8Array.from({ length: 9 }, (_, i) => i * 31);
    const bytes = encodeTiff({ width, height, bitDepth: 8, rowsPerStrip: 100 }, px);
    const d = await decodeWithGeotiff(bytes);
    assert.equal(Number(d.bits), 8);
    assert.ok(d.raster instanceof Uint8Array);
    assert.deepEqual(d.raster, px);
  });

  test('writeTiff streams rows top to bottom into a file identical to encodeTiff and of the predicted size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiff-write-'));
    try {
      const spec = { width: 300, height: 2100, bitDepth: 16 as const };
      const seen: number[] = [];
      const rowAt = (y: number, out: Uint16Array) => {
        seen.push(y);
        for (let x = 0; x < out.length; x++) out[x] = (x * 7 + y * 13) & 0xffff;
      };
      const path = join(dir, 'a.tif');
      const size = writeTiff(path, spec, rowAt);
      assert.deepEqual(
        seen,
        Array.from({ length: spec.height }, (_, y) => y),
      );
      const file = readFileSync(path);
      assert.equal(size, file.length);
      assert.equal(size, tiffByteLength(spec));
      assert.ok(file.equals(encodeTiff(spec, rowAt)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rows are produced in bounded chunks, never as one whole-image buffer', () => {
    const spec = { width: 1145, height: 2072, bitDepth: 16 as const };
    const chunks = [...tiffChunks(spec, () => {})];
    assert.ok(chunks.length > 4, `expected several chunks, got ${chunks.length}`);
    for (const c of chunks) assert.ok(c.length <= 1 << 20, `chunk of ${c.length} bytes`);
    assert.equal(
      chunks.reduce((n, c) => n + c.length, 0),
      tiffByteLength(spec),
    );
  });

  test('the same pixels always give the same bytes, starting with a little-endian TIFF header', () => {
    const px = ramp16(64, 48);
    const a = encodeTiff({ width: 64, height: 48, bitDepth: 16 }, px);
    const b = encodeTiff({ width: 64, height: 48, bitDepth: 16 }, px.slice());
    assert.ok(a.equals(b));
    assert.deepEqual([...a.subarray(0, 8)], [0x49, 0x49, 42, 0, 8, 0, 0, 0]);
  });

  test('invalid sizes, bit depths and pixel counts are refused with a message', () => {
    assert.throws(
      () => encodeTiff({ width: 0, height: 5, bitDepth: 8 }, new Uint8Array(0)),
      /positive integers/,
    );
    assert.throws(() => tiffByteLength({ width: 4, height: 4, bitDepth: 12 as 8 }), /8 or 16/);
    assert.throws(
      () => encodeTiff({ width: 4, height: 4, bitDepth: 16 }, new Uint16Array(15)),
      /expected 16 pixels/,
    );
    assert.throws(
      () => encodeTiff({ width: 4, height: 4, bitDepth: 16 }, new Uint8Array(16) as unknown as Uint16Array),
      /needs a Uint16Array/,
    );
  });
});
