import type { Readable } from 'node:stream';
import type { ImageSource } from '../imaging/tasks.ts';

/**
 * Where the original TIFF bytes live, content-addressed by their SHA-256 (lower-case hex): the same bytes always
 * have the same key, so a put is idempotent and an object never changes once stored. Two implementations:
 * a directory (`local-store.ts`, the embedded default) and an S3-compatible bucket (`s3-store.ts`). A runner on
 * a machine without either reads through the API (`api-source.ts`), which needs only `source`.
 *
 * Previews are not here: they are a per-instance cache on local disk (api/src/images/local-files.ts), rebuilt
 * from these bytes when missing.
 */
export interface ImageStore {
  /** For logs and errors: the directory or `s3://bucket/prefix` (never credentials). */
  readonly description: string;
  /**
   * Stores the bytes under `sha256`; resolves only once the store has them (fsync + rename on disk, a completed
   * PutObject in a bucket). The caller has hashed them. A file `path` may be moved into the store (it is
   * gone afterwards when the store is local) — pass a temporary file.
   */
  put(sha256: string, source: ImageSource): Promise<void>;
  /** The bytes, or null when the store does not hold them. */
  get(sha256: string): Promise<Buffer | null>;
  /** A stream of the bytes with their size, or null when absent (for HTTP responses). */
  stream(sha256: string): Promise<{ body: Readable; size: number } | null>;
  /** The stored size in bytes, or null when absent. */
  size(sha256: string): Promise<number | null>;
  /** Removes the object (no error when absent). Only for undoing a put whose row did not commit. */
  remove(sha256: string): Promise<void>;
  /** Every stored key (any order): for migration and verification. */
  list(): AsyncIterable<string>;
  /**
   * The image as a worker pool takes it (lib/imaging/tasks.ts): a file path when the store is a local
   * directory (the worker reads it, nothing large crosses threads), else the bytes. Throws
   * ImageMissingError when absent.
   */
  source(sha256: string): Promise<ImageSource>;
  close(): void;
}

/** What a model runner needs of a store: the bytes of an image, by hash. */
export type ImageSourceReader = Pick<ImageStore, 'source' | 'description'>;

export class ImageMissingError extends Error {
  constructor(
    readonly sha256: string,
    where: string,
  ) {
    super(`image ${sha256} is not in the image store (${where})`);
  }
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The parsed PLATINA_IMAGE_STORE. */
export type ImageStoreSpec =
  | { kind: 'local'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string; s3: S3Settings }
  /** A runner only: read through an API instance's `GET /api/images/:id/raw`. */
  | { kind: 'api'; url: string; token: string | null; user: string | null; password: string | null };

/** A store proper (an API instance's): not a runner's read path through an API. */
export type StoreSpec = Exclude<ImageStoreSpec, { kind: 'api' }>;

/** The standard AWS variables, read once (so tests can hand a store its own environment). */
export interface S3Settings {
  endpoint: string | null;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null;
  /** Path-style URLs (http://host/bucket/key): what MinIO, Ceph RGW and s3rver expect; AWS takes both. */
  forcePathStyle: boolean;
}

export class ImageStoreConfigError extends Error {}

const FORMS =
  'expected unset (the directory PLATINA_DATA_DIR/images), s3://bucket/prefix (an S3-compatible object store; ' +
  'AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as for any AWS client)';

/**
 * Parses PLATINA_IMAGE_STORE. `role` 'runner' also accepts an API's base URL (http(s)://host:port): a runner on
 * another machine then reads image bytes through that API with PLATINA_RUNNER_TOKEN, or signs in with
 * PLATINA_RUNNER_USER / PLATINA_RUNNER_PASSWORD (and again whenever its token expires).
 */
export function parseImageStoreSpec(env: NodeJS.ProcessEnv, dataDir: string, role: 'api'): StoreSpec;
export function parseImageStoreSpec(env: NodeJS.ProcessEnv, dataDir: string, role: 'runner'): ImageStoreSpec;
export function parseImageStoreSpec(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  role: 'api' | 'runner',
): ImageStoreSpec {
  const raw = env.PLATINA_IMAGE_STORE?.trim() ?? '';
  if (raw === '') return { kind: 'local', dir: `${dataDir}/images` };
  if (raw.startsWith('s3://')) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(raw);
    if (!m)
      throw new ImageStoreConfigError(
        `PLATINA_IMAGE_STORE=${JSON.stringify(raw)} is invalid: the bucket name must be 3–63 lower-case letters, digits, dots or dashes (s3://bucket/prefix)`,
      );
    const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
    return { kind: 's3', bucket: m[1], prefix, s3: s3Settings(env) };
  }
  if (/^https?:\/\//.test(raw)) {
    if (role !== 'runner')
      throw new ImageStoreConfigError(
        `PLATINA_IMAGE_STORE=${JSON.stringify(raw)} is invalid for an API instance, which stores images itself: ${FORMS}. Only a model runner reads through an API's URL`,
      );
    const token = env.PLATINA_RUNNER_TOKEN?.trim() || null;
    const user = env.PLATINA_RUNNER_USER?.trim() || null;
    const password = env.PLATINA_RUNNER_PASSWORD ?? null;
    if (!token && !(user && password))
      throw new ImageStoreConfigError(
        'PLATINA_IMAGE_STORE is an API URL: set PLATINA_RUNNER_USER and PLATINA_RUNNER_PASSWORD (a user with the role runner) or PLATINA_RUNNER_TOKEN',
      );
    return { kind: 'api', url: raw.replace(/\/+$/, ''), token, user, password };
  }
  throw new ImageStoreConfigError(
    `PLATINA_IMAGE_STORE=${JSON.stringify(raw)} is invalid: ${FORMS}${role === 'runner' ? ', or an API URL http(s)://host:port' : ''}`,
  );
}

/** The standard AWS variables for an S3-compatible store (also the watcher's, lib/import/watch-sources.ts). */
export function s3Settings(env: NodeJS.ProcessEnv): S3Settings {
  const endpoint = env.AWS_ENDPOINT_URL_S3?.trim() || env.AWS_ENDPOINT_URL?.trim() || null;
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  return {
    endpoint,
    region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1',
    // Without keys in the environment the SDK's own chain applies (profile, instance role, web identity).
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN?.trim() || undefined }
        : null,
    // A custom endpoint is an S3-compatible server, most of which only serve path-style URLs;
    // AWS_S3_FORCE_PATH_STYLE=0 asks for virtual-hosted URLs there too.
    forcePathStyle: endpoint !== null && env.AWS_S3_FORCE_PATH_STYLE !== '0',
  };
}
