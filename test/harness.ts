import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { Role } from '../lib/db/schema.ts';
import type { PoolTimeouts } from '../lib/db/connect.ts';
import { loadConfig, type Config } from '../api/src/config.ts';
import { startServer, type RunningServer } from '../api/src/server.ts';
import { openTestDatabase } from './databases.ts';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestUser {
  id: string;
  username: string;
  role: Role;
  password: string;
  token: string;
}

export interface RequestOptions {
  token?: string;
  json?: unknown;
  body?: Buffer | Uint8Array | string;
  headers?: Record<string, string>;
}

/**
 * A running Platina (real HTTP on port 0, a fresh database of the kind PLATINA_TEST_DB names).
 * Tests talk to it like any client would.
 */
export interface TestApp {
  url: string;
  server: RunningServer;
  config: Config;
  admin: TestUser;
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<Reply<T>>;
  /** Create a user through the API (as admin) and sign them in. */
  user(role: Role, username?: string): Promise<TestUser>;
  login(username: string, password: string): Promise<string>;
  close(): Promise<void>;
}

let counter = 0;

/** `opts.timeouts`: the database pool's (see PoolTimeouts), for tests of connections dropped while idle. */
export async function startTestApp(
  env: Record<string, string> = {},
  opts: { timeouts?: PoolTimeouts } = {},
): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-test-'));
  const config = loadConfig({
    PORT: '0',
    PLATINA_DATA_DIR: dataDir,
    PLATINA_ADMIN_PASSWORD: ADMIN_PASSWORD,
    PLATINA_RUNNER: 'off',
    PLATINA_ARGON2_MEMORY_KIB: '4096',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...env,
  });
  const database = await openTestDatabase(undefined, opts.timeouts);
  const server = await startServer(config, database, { logger: pino({ level: config.logLevel }) });

  async function request<T>(method: string, p: string, opts: RequestOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body = opts.body as BodyInit | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.json);
    }
    const res = await fetch(server.url + p, { method, headers, body, duplex: 'half' } as RequestInit);
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  async function login(username: string, password: string): Promise<string> {
    const r = await request<any>('POST', '/api/auth/login', { json: { username, password } });
    if (r.status !== 200) throw new Error(`login ${username} failed: ${r.status} ${r.text}`);
    return r.body.token;
  }

  const adminToken = await login('admin', ADMIN_PASSWORD);
  const me = await request<any>('GET', '/api/users/me', { token: adminToken });
  const admin: TestUser = { ...me.body, password: ADMIN_PASSWORD, token: adminToken };

  return {
    url: server.url,
    server,
    config,
    admin,
    request,
    login,
    async user(role, username = `${role}${++counter}`) {
      const password = `pw-${username}-secret`;
      const r = await request<any>('POST', '/api/users', {
        token: adminToken,
        json: { username, password, role },
      });
      if (r.status !== 201) throw new Error(`create ${username} failed: ${r.status} ${r.text}`);
      return { id: r.body.id, username, role, password, token: await login(username, password) };
    },
    async close() {
      await server.close(1000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
