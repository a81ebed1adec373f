import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { writeArrayBuffer } from 'geotiff';
import { decodeTiff, InvalidImageError } from './tiff-decode.ts';
import { hostileCorpus } from './tiff-corpus.ts';
import { buildTiff, syntheticXray16 } from './tiff-fixtures.ts';

async function rejection(input: ArrayBuffer | Uint8Array): Promise<InvalidImageError> {
  try {
    await decodeTiff(input);
  } catch (err) {
    assert.ok(err instanceof InvalidImageError, `expected InvalidImageError, got ${String(err)}`);
    return err;
  }
  assert.fail('decodeTiff accepted an invalid image');
}

const gray16 = Uint16Array.from({ length: 12 }, (_, i) => 1000 * i + 7);

describe('decodeTiff accepts single-channel 8- and 16-bit unsigned grayscale', () => {
  test('a 16-bit little-endian image decodes to its exact pixel values', async () => {
    const img = await decodeTiff(buildTiff({ width: 4, height: 3, data: gray16 }));
    assert.equal(img.bitDepth, 16);
    assert.deepEqual([img.width, img.height], [4, 3]);
    assert.ok(img.data instanceof Uint16Array);
    assert.deepEqual([...img.data], [...gray16]);
    assert.equal(img.invertedMinIsWhite, false);
  });

  test('a big-endian 16-bit image decodes to the same values (bytes swapped)', async () => {
    const img = await decodeTiff(buildTiff({ width: 4, height: 3, data: gray16, littleEndian: false }));
    assert.deepEqual([...img.data], [...gray16]);
  });

  test('an 8-bit image decodes to a Uint8Array', async () => {
    const data = Uint8Array.from({ length: 6 }, (_, i) => i * 40);
    const img = await decodeTiff(buildTiff({ width: 3, height: 2, data }));
    assert.equal(img.bitDepth, 8);
    assert.ok(img.data instanceof Uint8Array);
    assert.deepEqual([...img.data], [0, 40, 80, 120, 160, 200]);
  });

  test('several strips, a short last strip, are assembled in order', async () => {
    const px = syntheticXray16(37, 23, 5);
    const img = await decodeTiff(buildTiff({ width: 37, height: 23, data: px, rowsPerStrip: 5 }));
    assert.deepEqual(img.data, px);
  });

  test('deflate-compressed files (geotiff path) decode to the same pixels as uncompressed ones (fast path)', async () => {
    const px = syntheticXray16(50, 40, 9);
    const fast = await decodeTiff(buildTiff({ width: 50, height: 40, data: px, rowsPerStrip: 7 }));
    const slow = await decodeTiff(
      buildTiff({ width: 50, height: 40, data: px, rowsPerStrip: 7, compression: 'deflate' }),
    );
    assert.deepEqual(slow.data, fast.data);
    assert.deepEqual(fast.data, px);
  });

  test("geotiff's own writer output (big-endian, with GeoTIFF tags) is accepted", async () => {
    const px = Uint16Array.from({ length: 20 }, (_, i) => 60000 - i);
    const img = await decodeTiff(writeArrayBuffer(px, { width: 5, height: 4 }));
    assert.deepEqual([...img.data], [...px]);
  });

  test('MinIsWhite images are inverted so that higher means brighter', async () => {
    const img = await decodeTiff(
      buildTiff({ width: 2, height: 1, data: Uint16Array.of(0, 65000), photometric: 0 }),
    );
    assert.deepEqual([...img.data], [65535, 535]);
    assert.equal(img.invertedMinIsWhite, true);
    const img8 = await decodeTiff(
      buildTiff({ width: 2, height: 1, data: Uint8Array.of(0, 200), photometric: 0 }),
    );
    assert.deepEqual([...img8.data], [255, 55]);
  });

  test('a Uint8Array view into a larger buffer is read from its own bytes only', async () => {
    const file = new Uint8Array(buildTiff({ width: 4, height: 3, data: gray16 }));
    const padded = new Uint8Array(file.length + 20);
    padded.set(file, 10);
    const img = await decodeTiff(padded.subarray(10, 10 + file.length));
    assert.deepEqual([...img.data], [...gray16]);
  });
});

describe('decodeTiff rejects everything else, saying what it is', () => {
  test('an RGB TIFF', async () => {
    const err = await rejection(
      buildTiff({ width: 2, height: 2, data: new Uint8Array(12), samplesPerPixel: 3 }),
    );
    assert.equal(err.reason, 'unsupported');
    assert.equal(
      err.message,
      'Expected a single-channel 8- or 16-bit unsigned grayscale TIFF, but this is an RGB TIFF with 3 samples per pixel of 8 bits.',
    );
  });

  test('a 32-bit float TIFF', async () => {
    const err = await rejection(
      buildTiff({ width: 2, height: 2, data: new Float32Array(4), sampleFormat: 3 }),
    );
    assert.equal(err.what, 'a 32-bit float TIFF');
  });

  test('a signed 16-bit TIFF', async () => {
    const err = await rejection(buildTiff({ width: 2, height: 2, data: new Int16Array(4), sampleFormat: 2 }));
    assert.equal(err.what, 'a signed 16-bit integer TIFF');
  });

  test('a 32-bit unsigned grayscale TIFF', async () => {
    const err = await rejection(buildTiff({ width: 2, height: 2, data: new Uint32Array(4) }));
    assert.equal(err.what, 'a 32-bit grayscale TIFF');
  });

  test('grayscale with an alpha channel', async () => {
    const err = await rejection(
      buildTiff({
        width: 2,
        height: 2,
        data: new Uint8Array(8),
        samplesPerPixel: 2,
        extraTags: { 338: [2] },
      }),
    );
    assert.equal(
      err.what,
      'a grayscale TIFF with 2 samples per pixel (an extra channel such as alpha) of 8 bits',
    );
  });

  test('a palette-colour TIFF', async () => {
    const err = await rejection(buildTiff({ width: 2, height: 2, data: new Uint8Array(4), photometric: 3 }));
    assert.equal(err.what, 'a palette-colour TIFF with 1 sample per pixel of 8 bits');
  });

  test('PNG bytes', async () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13);
    const err = await rejection(png);
    assert.equal(err.reason, 'not_tiff');
    assert.equal(err.what, 'not a TIFF (starts with bytes 89 50 4E 47: a PNG)');
  });

  test('JPEG bytes and unknown bytes', async () => {
    assert.equal(
      (await rejection(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 1, 2))).what,
      'not a TIFF (starts with bytes FF D8 FF E0: a JPEG)',
    );
    assert.equal(
      (await rejection(new TextEncoder().encode('hello world'))).what,
      'not a TIFF (starts with bytes 68 65 6C 6C)',
    );
  });

  test('an empty body', async () => {
    assert.equal((await rejection(new Uint8Array(0))).what, 'an empty file (0 bytes)');
  });

  test('a truncated header', async () => {
    const err = await rejection(Uint8Array.of(0x49, 0x49, 42, 0, 8, 0));
    assert.equal(err.reason, 'corrupt');
    assert.equal(err.what, 'a truncated TIFF (only 6 bytes)');
  });

  test('pixel data cut short', async () => {
    const file = new Uint8Array(buildTiff({ width: 10, height: 10, data: new Uint16Array(100) }));
    const err = await rejection(file.slice(0, file.length - 50));
    assert.equal(err.reason, 'corrupt');
    assert.match(
      err.what,
      /^a truncated or corrupt TIFF \(strip 1 of 1 ends at byte \d+, but the file has \d+ bytes\)$/,
    );
  });

  test('a compressed file cut short', async () => {
    const file = new Uint8Array(
      buildTiff({ width: 64, height: 64, data: syntheticXray16(64, 64), compression: 'deflate' }),
    );
    const err = await rejection(file.slice(0, file.length - 200));
    assert.equal(err.reason, 'corrupt');
    assert.match(err.what, /^a truncated or corrupt TIFF \(.+\)$/);
  });

  test('an IFD offset beyond the end of the file', async () => {
    const bytes = new Uint8Array(32);
    bytes.set([0x49, 0x49, 42, 0, 0xff, 0xff, 0, 0]);
    const err = await rejection(bytes);
    assert.equal(err.reason, 'corrupt');
  });

  test('an image with more pixels than the limit is refused before decoding', async () => {
    try {
      await decodeTiff(buildTiff({ width: 100, height: 100, data: new Uint8Array(10000) }), {
        maxPixels: 9999,
      });
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof InvalidImageError);
      assert.equal(err.reason, 'too_large');
      assert.equal(
        err.message,
        'The image is too large: it is 100×100 pixels, more than the limit of 9999 pixels.',
      );
    }
  });
});

describe('decodeTiff on hostile input (issue 14): corrupt files are rejected, never filled with made-up pixels', () => {
  const corpus = hostileCorpus();
  const named = (name: string) => {
    const f = corpus.find((x) => x.name === name);
    assert.ok(f, `no corpus file ${name}`);
    return f.bytes;
  };

  test('an empty LZW strip is corrupt, named by its number', async () => {
    const err = await rejection(named('lzw-16bit-le-strips5/empty-chunk'));
    assert.equal(err.reason, 'corrupt');
    assert.equal(err.what, 'a truncated or corrupt TIFF (strip 4 of 4 is empty)');
  });

  test('corrupt LZW, deflate, PackBits and JPEG strips are corrupt, saying what went wrong', async () => {
    assert.equal(
      (await rejection(named('lzw-8bit-be-strips5/garbage-chunk'))).what,
      'a truncated or corrupt TIFF (strip 4 of 4: its LZW data start with code 511, which is not in the table)',
    );
    assert.match(
      (await rejection(named('deflate-16bit-le-strips5/garbage-chunk'))).what,
      /^a truncated or corrupt TIFF \(strip 4 of 4: its deflate data are corrupt: .+\)$/,
    );
    assert.equal(
      (await rejection(named('packbits-8bit-le-strips5/truncated-chunk'))).what,
      'a truncated or corrupt TIFF (strip 4 of 4: its PackBits data end inside a literal run)',
    );
    assert.equal(
      (await rejection(named('jpeg-8bit-le-strips8/garbage-chunk'))).what,
      'a truncated or corrupt TIFF (strip 2 of 2: its JPEG data do not start with a JPEG start-of-image marker)',
    );
  });

  test('a tile width of 0 is corrupt', async () => {
    assert.equal(
      (await rejection(named('tiles-width-0'))).what,
      'a truncated or corrupt TIFF (it declares tiles of 0×16 pixels)',
    );
  });

  test('a JPEG strip declaring 65500×65500 is refused from its markers, before the decoder allocates', async () => {
    const t0 = performance.now();
    assert.equal(
      (await rejection(named('jpeg-strips-declaring-65500x65500'))).what,
      'a truncated or corrupt TIFF (strip 1 of 2: its JPEG data declare 65500×65500 pixels where the strip or tile holds 24×8)',
    );
    assert.ok(performance.now() - t0 < 200);
  });

  test('10000×10000 pixels in 1×1 tiles (136 bytes) is refused from its tag sizes', async () => {
    const bytes = named('tiles-10000x10000-of-1x1');
    assert.ok(bytes.length < 200);
    assert.equal(
      (await rejection(bytes)).what,
      'a truncated or corrupt TIFF (it is cut into 100000000 tiles, more than 1048576)',
    );
  });

  test('a deflate strip that inflates to 64 MB in a 64×64 image is refused at the strip size', async () => {
    assert.equal(
      (await rejection(named('deflate-bomb-64MB-in-64x64'))).what,
      'a truncated or corrupt TIFF (strip 1 of 1: its deflate data decompress to more than the 8192 bytes the strip or tile holds)',
    );
  });

  test('a valid big-endian TIFF with 300 strips decodes exactly (geotiff 3.0.5 reads its offsets little-endian)', async () => {
    const f = corpus.find((x) => x.name === 'none-16bit-be-strips1' && x.bytes.length > 9000)!;
    assert.equal(f.expect.kind, 'accept');
    const img = await decodeTiff(f.bytes);
    assert.deepEqual([img.width, img.height], [16, 300]);
    if (f.expect.kind === 'accept') assert.deepEqual(img.data, f.expect.pixels);
  });

  test(`every file of the corpus: valid ones decode to their exact pixels, broken ones are InvalidImageErrors`, async () => {
    const counts = { accept: 0, reject: 0, either: 0 };
    for (const f of corpus) {
      counts[f.expect.kind]++;
      let result: Awaited<ReturnType<typeof decodeTiff>> | InvalidImageError;
      try {
        result = await decodeTiff(f.bytes);
      } catch (err) {
        assert.ok(err instanceof InvalidImageError, `${f.name}: ${String(err)}`);
        result = err;
      }
      if (f.expect.kind === 'accept') {
        assert.ok(!(result instanceof InvalidImageError), `${f.name}: rejected: ${String(result)}`);
        assert.deepEqual(
          [result.width, result.height, result.bitDepth],
          [f.expect.width, f.expect.height, f.expect.bitDepth],
          f.name,
        );
        assert.ok(
          result.data.length === f.expect.pixels.length &&
            result.data.every((v, i) => v === (f.expect as { pixels: ArrayLike<number> }).pixels[i]),
          `${f.name}: pixels differ`,
        );
      } else if (f.expect.kind === 'reject') {
        assert.ok(result instanceof InvalidImageError, `${f.name}: accepted`);
      }
    }
    assert.ok(corpus.length >= 200, `${corpus.length} files`);
    assert.ok(counts.accept >= 60 && counts.reject >= 200 && counts.either >= 60, JSON.stringify(counts));
  });
});

test('a Node Buffer (as read from disk) decodes like its bytes: JPEG strips, and in-place byte swaps never touch the input', async () => {
  for (const f of hostileCorpus().filter(
    (x) => x.expect.kind === 'accept' && /^(jpeg|lzw-16bit-be)/.test(x.name),
  )) {
    const buffer = Buffer.from(f.bytes);
    const img = await decodeTiff(buffer);
    assert.deepEqual(img.data, (f.expect as { pixels: Uint8Array | Uint16Array }).pixels, f.name);
    assert.ok(buffer.equals(f.bytes), `${f.name}: input changed`);
  }
});
