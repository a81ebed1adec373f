import path from 'node:path';
import {
  ImageStoreConfigError,
  parseImageStoreSpec,
  type StoreSpec,
} from '../../lib/image-store/image-store.ts';

/** Everything Platina reads from the environment, validated once at start. */
export interface Config {
  port: number;
  dataDir: string;
  databaseUrl: string | null;
  adminPassword: string | null;
  maxUploadBytes: number;
  tokenTtlHours: number;
  /** argon2id memory cost; lowering it trades brute-force resistance for faster logins (tests use 4 MiB). */
  argon2MemoryKiB: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Run the model runner inside the server process (default with the embedded database). */
  embeddedRunner: boolean;
  /**
   * Behind a reverse proxy: take the client address from X-Forwarded-For (the sign-in throttle's
   * per-address key). Off, the address is the socket's peer — the proxy's, for every user behind it.
   */
  trustProxy: boolean;
  /** PLATINA_IMAGE_STORE: where original images live (lib/image-store): dataDir/images or an S3 bucket. */
  imageStore: StoreSpec;
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is invalid: expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/** Parse the environment; throws ConfigError with one line naming the variable and what is allowed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      `DATABASE_URL is invalid: expected postgres://user@host:port/database (leave it unset for the embedded database)`,
    );
  }
  const logLevel = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(logLevel)) {
    throw new ConfigError(
      `LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)} is invalid: expected one of ${levels.join(', ')}`,
    );
  }
  const adminPassword = env.PLATINA_ADMIN_PASSWORD ?? null;
  if (adminPassword !== null && adminPassword.length < 8) {
    throw new ConfigError('PLATINA_ADMIN_PASSWORD is invalid: expected at least 8 characters');
  }
  const runnerMode = env.PLATINA_RUNNER ?? 'auto';
  if (!['auto', 'embedded', 'off'].includes(runnerMode)) {
    throw new ConfigError(
      `PLATINA_RUNNER=${JSON.stringify(runnerMode)} is invalid: expected auto, embedded or off`,
    );
  }
  const trustProxy = env.PLATINA_TRUST_PROXY ?? '0';
  if (!['0', '1'].includes(trustProxy)) {
    throw new ConfigError(
      `PLATINA_TRUST_PROXY=${JSON.stringify(trustProxy)} is invalid: expected 1 (behind a reverse proxy that sets X-Forwarded-For) or 0`,
    );
  }
  const dataDir = path.resolve(env.PLATINA_DATA_DIR?.trim() || './data');
  let imageStore: StoreSpec;
  try {
    imageStore = parseImageStoreSpec(env, dataDir, 'api');
  } catch (err) {
    if (err instanceof ImageStoreConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    dataDir,
    databaseUrl,
    adminPassword,
    maxUploadBytes: int(env, 'PLATINA_MAX_UPLOAD_MB', 64, 1, 4096) * 1024 * 1024,
    tokenTtlHours: int(env, 'PLATINA_TOKEN_TTL_HOURS', 12, 1, 24 * 90),
    argon2MemoryKiB: int(env, 'PLATINA_ARGON2_MEMORY_KIB', 65536, 1024, 1048576),
    logLevel,
    embeddedRunner: runnerMode === 'embedded' || (runnerMode === 'auto' && !databaseUrl),
    trustProxy: trustProxy === '1',
    imageStore,
  };
}
