import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ImageMissingError, SHA256_HEX, type ImageStore, type S3Settings } from './image-store.ts';

const RETRYABLE_BYTES = 64 * 1024 * 1024;

/** The SDK's warnings go to the console; every failure reaches the caller as an error, which logs it. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** An S3 answer that means "no such object" (GET says NoSuchKey, HEAD has no body and says NotFound). */
function notFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export type S3Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<S3Sdk> | null = null;

/**
 * The AWS SDK, loaded on first use: loading it takes one to two seconds, which a process with the local store (the
 * default, and every test that does not ask for S3) should not pay at each start.
 */
export function s3Sdk(): Promise<S3Sdk> {
  sdk ??= import('@aws-sdk/client-s3');
  return sdk;
}

/** The one way Platina builds an S3 client from the standard settings (image store, watcher, tests). */
export async function s3Client(settings: S3Settings): Promise<{ client: S3Client; sdk: S3Sdk }> {
  const loaded = await s3Sdk();
  const client = new loaded.S3Client({
    region: settings.region,
    endpoint: settings.endpoint ?? undefined,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.credentials ?? undefined,
    logger: quiet,
    // Newer SDKs add CRC32 checksums to every request by default (for streams as aws-chunked trailers), which
    // several S3-compatible servers reject. Checksums only where the API requires them keeps every one working;
    // the content's own SHA-256 is its key, and migrate.ts verifies it end to end.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { client, sdk: loaded };
}

/**
 * The image store in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW; s3rver in tests): one object per image at
 * `<prefix>/<sha256>`. A put resolves once PutObject has answered 200, i.e. once the store holds the object;
 * identical bytes under the same key make a repeated put harmless.
 */
export function s3ImageStore(o: { bucket: string; prefix: string; s3: S3Settings }): ImageStore {
  let connected: ReturnType<typeof s3Client> | null = null;
  const s3 = () => (connected ??= s3Client(o.s3));
  const key = (sha256: string) => (o.prefix ? `${o.prefix}/${sha256}` : sha256);
  const where = `s3://${o.bucket}${o.prefix ? `/${o.prefix}` : ''}`;

  async function get(sha256: string): Promise<Buffer | null> {
    try {
      const { client, sdk } = await s3();
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: o.bucket, Key: key(sha256) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  return {
    description: where,
    async put(sha256, source) {
      // The SDK retries a failed request only when it can send the body again: a buffer, not a stream. Images
      // are a few MB; only files beyond RETRYABLE_BYTES are streamed (and not retried).
      let body: { Body: Uint8Array | Readable; ContentLength: number };
      if ('bytes' in source) body = { Body: source.bytes, ContentLength: source.bytes.byteLength };
      else {
        const size = (await stat(source.path)).size;
        body = {
          Body: size <= RETRYABLE_BYTES ? await readFile(source.path) : createReadStream(source.path),
          ContentLength: size,
        };
      }
      const { client, sdk } = await s3();
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: o.bucket,
          Key: key(sha256),
          ...body,
          ContentType: 'image/tiff',
          Metadata: { sha256 },
        }),
      );
    },
    get,
    async stream(sha256) {
      try {
        const { client, sdk } = await s3();
        const r = await client.send(new sdk.GetObjectCommand({ Bucket: o.bucket, Key: key(sha256) }));
        return { body: r.Body as Readable, size: Number(r.ContentLength) };
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async size(sha256) {
      try {
        const { client, sdk } = await s3();
        const r = await client.send(new sdk.HeadObjectCommand({ Bucket: o.bucket, Key: key(sha256) }));
        return Number(r.ContentLength);
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async remove(sha256) {
      const { client, sdk } = await s3();
      await client.send(new sdk.DeleteObjectCommand({ Bucket: o.bucket, Key: key(sha256) }));
    },
    async *list() {
      const start = o.prefix ? `${o.prefix}/` : '';
      const { client, sdk } = await s3();
      let token: string | undefined;
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: o.bucket, Prefix: start, ContinuationToken: token }),
        );
        for (const c of page.Contents ?? []) {
          const name = c.Key!.slice(start.length);
          if (SHA256_HEX.test(name)) yield name;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async source(sha256) {
      const bytes = await get(sha256);
      if (bytes === null) throw new ImageMissingError(sha256, where);
      return { bytes };
    },
    close() {
      void connected?.then(({ client }) => client.destroy());
    },
  };
}
