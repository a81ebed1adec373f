import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Real processes for the fault suite (test/faults/scenarios.ts): the API (`api/src/main.ts`, what
 * `npm start` runs after building the client) and the model runner (`model-runner/src/main.ts`, what
 * `npm run runner` runs) as child processes that can be killed with SIGKILL, and a private PostgreSQL
 * server that can be restarted without touching the shared one on 5432.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

export const FAULT_ADMIN_PASSWORD = 'admin-password-for-fault-tests';

/** A port nobody listens on now (the kernel's pick for port 0, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Child {
  pid: number;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  tail(): string;
  /** Resolves with the exit code or signal once it has exited. */
  exited: Promise<string>;
  /** SIGKILL, then wait until the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean stop), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

function spawnTsx(script: string, env: Record<string, string>): Child {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (b: Buffer) => (tail = (tail + b.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? String(code))),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    pid: child.pid!,
    tail: () => tail,
    exited,
    async kill9() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (!gone) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ApiProcess extends Child {
  url: string;
}

/**
 * `api/src/main.ts` on a free port over `dataDir` (the embedded database in dataDir/db) or `databaseUrl`,
 * the runner off unless `env` says otherwise. Resolves once `GET /api/health` answers 200.
 */
export async function startApiProcess(o: {
  dataDir: string;
  databaseUrl?: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawnTsx('api/src/main.ts', {
    PORT: String(port),
    PLATINA_DATA_DIR: o.dataDir,
    PLATINA_ADMIN_PASSWORD: FAULT_ADMIN_PASSWORD,
    PLATINA_RUNNER: 'off',
    PLATINA_ARGON2_MEMORY_KIB: '4096',
    LOG_LEVEL: 'warn',
    ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
    ...o.env,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  let exitedWith: string | null = null;
  void child.exited.then((c) => (exitedWith = c));
  while (Date.now() < deadline && exitedWith === null) {
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.status === 200) return { ...child, url };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await child.kill9();
  throw new Error(`the API did not become healthy (exit ${exitedWith ?? 'none'}):\n${child.tail()}`);
}

/** `model-runner/src/main.ts` against `databaseUrl`, reading images from `dataDir`. */
export function startRunnerProcess(o: {
  databaseUrl: string;
  dataDir: string;
  env?: Record<string, string>;
}): Child {
  return spawnTsx('model-runner/src/main.ts', {
    DATABASE_URL: o.databaseUrl,
    PLATINA_DATA_DIR: o.dataDir,
    LOG_LEVEL: 'warn',
    ...o.env,
  });
}

/** initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin (what `.ci/run` installs). */
export function findPostgresBinaries(): { initdb: string; pgCtl: string } | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => path.join(debian, v, 'bin')));
  }
  for (const dir of dirs) {
    const initdb = path.join(dir, 'initdb');
    const pgCtl = path.join(dir, 'pg_ctl');
    if (fs.existsSync(initdb) && fs.existsSync(pgCtl)) return { initdb, pgCtl };
  }
  return null;
}

export interface PrivatePostgres {
  url: string;
  /** `pg_ctl restart -m fast`: every session terminated, the server down, then up again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A PostgreSQL server of our own (initdb in a temp directory, trust auth, a free port, its socket in the
 * same directory), so a test may restart it. PostgreSQL refuses to run as root: as root, it runs as the
 * `postgres` user (present wherever Debian's packages are installed) through runuser.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bins = findPostgresBinaries();
  if (!bins) throw new Error('initdb/pg_ctl not found');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-private-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    fs.chmodSync(dir, 0o755);
    await run('chown', ['postgres:', dir]);
  }
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);
  const port = await freePort();
  await as(bins.initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=on -c max_connections=100`;
  const ctl = (...args: string[]) =>
    as(bins.pgCtl, ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', '-o', opts, ...args]);
  await ctl('start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await ctl('restart', '-m', 'fast');
    },
    async close() {
      await ctl('stop', '-m', 'immediate').catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
