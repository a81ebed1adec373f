import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseLockedError, acquireDirLock, processStart } from './dir-lock.ts';

// A live process that is not Platina: its pid is what a stale lock names after the pid was reused.
let other: ChildProcess;
before(async () => {
  other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  await new Promise((r) => other.once('spawn', r));
});
after(() => other?.kill());

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function dataDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'platina-dirlock-'));
  dirs.push(d);
  return d;
}
const lockOf = (dir: string) => path.join(dir, 'platina.lock');
const holder = (dir: string) => JSON.parse(fs.readFileSync(lockOf(dir), 'utf8')).pid as number;

describe('the embedded data directory lock', () => {
  test('records this process: pid and start identity', () => {
    const dir = dataDir();
    const release = acquireDirLock(dir);
    const lock = JSON.parse(fs.readFileSync(lockOf(dir), 'utf8'));
    assert.equal(lock.pid, process.pid);
    assert.equal(lock.start, processStart(process.pid));
    assert.match(lock.start, /^[0-9a-f-]{36}:\d+$/, 'boot id and start ticks (Linux)');
    release();
    assert.equal(fs.existsSync(lockOf(dir)), false);
    assert.deepEqual(fs.readdirSync(dir), [], 'no temporary file left behind');
  });

  test('a lock whose pid now belongs to another process is stale and taken over', () => {
    const dir = dataDir();
    // Written by a Platina that crashed; its pid was then given to `other`, which started later.
    fs.writeFileSync(
      lockOf(dir),
      JSON.stringify({ pid: other.pid, start: 'an-earlier-boot:12345', token: 'x' }),
    );
    const release = acquireDirLock(dir);
    assert.equal(holder(dir), process.pid);
    release();
  });

  test('so is a lock in the earlier pid-only format whose process started after it was written', () => {
    const dir = dataDir();
    fs.writeFileSync(lockOf(dir), String(other.pid));
    const anHourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(lockOf(dir), anHourAgo, anHourAgo);
    const release = acquireDirLock(dir);
    assert.equal(holder(dir), process.pid);
    release();
  });

  test('a lock of a live holder (same pid, same start) stops the start, naming the holder', () => {
    const dir = dataDir();
    fs.writeFileSync(
      lockOf(dir),
      JSON.stringify({ pid: other.pid, start: processStart(other.pid!), token: 'y' }),
    );
    assert.throws(
      () => acquireDirLock(dir),
      (err: Error) =>
        err instanceof DatabaseLockedError &&
        err.message.includes(`in use by another Platina process (pid ${other.pid})`),
    );
    assert.equal(holder(dir), other.pid, 'the holder keeps its lock');
  });

  test("a lock of a process that is gone is taken over; releasing never removes another's lock", () => {
    const dir = dataDir();
    fs.writeFileSync(lockOf(dir), JSON.stringify({ pid: 2 ** 22 + 1, start: 'b:1', token: 'z' }));
    const release = acquireDirLock(dir);
    assert.equal(holder(dir), process.pid);
    fs.writeFileSync(lockOf(dir), JSON.stringify({ pid: other.pid, start: 'c:2', token: 'someone-else' }));
    release();
    assert.equal(holder(dir), other.pid);
  });
});
