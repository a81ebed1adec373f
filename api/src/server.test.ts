import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseLockedError, openEmbedded } from '../../lib/db/connect.ts';
import { openTestDatabase } from '../../test/databases.ts';
import { loadConfig } from './config.ts';
import { startServer } from './server.ts';

describe('server lifecycle', () => {
  test('a second process cannot open the same embedded data directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-lock-'));
    const holder = spawn(process.execPath, [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'platina.lock'))}, String(process.pid)); setTimeout(() => {}, 60000)`,
    ]);
    const lockFile = path.join(dir, 'platina.lock');
    while (!fs.existsSync(lockFile) || fs.readFileSync(lockFile, 'utf8') === '')
      await new Promise((r) => setTimeout(r, 50));
    try {
      await assert.rejects(openEmbedded({ dataDir: dir }), (err: Error) => {
        assert.ok(err instanceof DatabaseLockedError);
        assert.match(err.message, new RegExp(`in use by another Platina process \\(pid ${holder.pid}\\)`));
        return true;
      });
    } finally {
      holder.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a stale lock whose pid now belongs to another process does not stop the start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-lock-'));
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await new Promise((r) => other.once('spawn', r));
      // Left by a Platina killed an hour ago (the earlier pid-only format); its pid went to `other` since.
      const lockFile = path.join(dir, 'platina.lock');
      fs.writeFileSync(lockFile, String(other.pid));
      const anHourAgo = new Date(Date.now() - 3600_000);
      fs.utimesSync(lockFile, anHourAgo, anHourAgo);
      const database = await openEmbedded({ dataDir: dir });
      assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, process.pid);
      await database.close();
      assert.equal(fs.existsSync(lockFile), false);
    } finally {
      other.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('close() lets an in-flight request finish, then refuses new connections', async () => {
    const config = loadConfig({
      PORT: '0',
      PLATINA_DATA_DIR: os.tmpdir(),
      PLATINA_ADMIN_PASSWORD: 'admin-password',
      PLATINA_ARGON2_MEMORY_KIB: '4096',
      LOG_LEVEL: 'silent',
    });
    const server = await startServer(config, await openTestDatabase());
    // A login takes an argon2 verification: long enough to be in flight when close() starts.
    const inflight = fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'admin-password' }),
    });
    await new Promise((r) => setTimeout(r, 5));
    const closed = server.close(5000);
    const res = await inflight;
    assert.equal(res.status, 200);
    await closed;
    await assert.rejects(fetch(`${server.url}/api/health`));
  });
});
