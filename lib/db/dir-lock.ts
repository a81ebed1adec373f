import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export class DatabaseLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `the embedded database in ${dir} is in use by another Platina process (pid ${pid}); ` +
        `stop it, or set PLATINA_DATA_DIR to another folder`,
    );
  }
}

/** What a lock file holds: who wrote it, and which incarnation of that pid it was. */
interface LockRecord {
  pid: number;
  /** processStart(pid) when the lock was taken; null where the system does not tell (no /proc). */
  start: string | null;
  /** Random, to tell our own lock from one that replaced it. */
  token: string;
}

/**
 * When process `pid` started, as an opaque, exact identity: the boot's id and the start time in clock
 * ticks since boot (Linux /proc). A pid is reused once its process is gone; the pair is not, so it tells
 * the process that wrote a lock from an unrelated one that got the same pid later (after a crash and a
 * reboot, a pid file names some other process as often as not). Null when unknown (no /proc, no process).
 */
export function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so count fields after the last ')'.
    // starttime is field 22 of the line; the first field after ')' is field 3.
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return ticks ? `${boot}:${ticks}` : null;
  } catch {
    return null;
  }
}

/** The process's start in ms since the epoch (Linux /proc, USER_HZ 100), for locks of the pid-only format. */
function processStartMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && btime ? btime * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parse a lock file: JSON, or the earlier format (the pid alone). */
function readRecord(text: string): (Omit<LockRecord, 'token'> & { legacy: boolean }) | null {
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r === 'object' && r !== null && Number.isInteger(r.pid))
      return { pid: r.pid!, start: typeof r.start === 'string' ? r.start : null, legacy: false };
  } catch {
    // not JSON: the earlier format
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, start: null, legacy: true } : null;
}

/**
 * Whether the lock at `lockPath` (with content `text`) is held by a live process: its pid is alive and is
 * the same incarnation that wrote it — the same start identity, or, for a pid-only lock file, a process
 * that started before the file was written. Where the system cannot tell (no /proc), a live pid holds it.
 */
function heldBy(lockPath: string, text: string): number | null {
  const r = readRecord(text);
  if (!r || r.pid === process.pid || !isAlive(r.pid)) return null;
  if (r.start !== null) {
    const now = processStart(r.pid);
    return now === null || now === r.start ? r.pid : null;
  }
  if (r.legacy) {
    const started = processStartMs(r.pid);
    const written = fs.statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs;
    // 1 s of slack for the tick rounding; a process that started after the file was written cannot be its writer.
    if (started !== null && written !== undefined && started > written + 1000) return null;
  }
  return r.pid;
}

/**
 * One process per embedded data directory: PGlite would corrupt files shared by two writers. A lock file
 * created with O_EXCL holds this process's pid and start identity; one whose process is gone, or whose
 * pid now belongs to another process, is stale and taken over. Returns the release function.
 *
 * A stale lock is moved aside with rename (atomic: of two processes taking over at once, one moves it)
 * and removed only when what was moved is the stale record that was judged, so a fresh lock another
 * process took meanwhile is put back, not deleted.
 */
export function acquireDirLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'platina.lock');
  const token = randomBytes(12).toString('hex');
  const record: LockRecord = { pid: process.pid, start: processStart(process.pid), token };
  // Written in full to a file of our own, then linked into place: link() fails when the lock exists, and
  // nobody ever sees a half-written lock.
  const mine = `${lockPath}.${token}`;
  fs.writeFileSync(mine, JSON.stringify(record));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(mine, lockPath);
        return () => {
          // Only our own lock: never one that replaced it.
          let now = '';
          try {
            now = fs.readFileSync(lockPath, 'utf8');
          } catch {
            return; // already gone
          }
          if (now.includes(token)) fs.rmSync(lockPath, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let text: string;
      try {
        text = fs.readFileSync(lockPath, 'utf8');
      } catch {
        continue; // removed meanwhile: try again
      }
      const holder = heldBy(lockPath, text);
      if (holder !== null) throw new DatabaseLockedError(dataDir, holder);
      const aside = `${lockPath}.stale-${token}`;
      try {
        fs.renameSync(lockPath, aside);
      } catch {
        continue; // someone else moved it first
      }
      if (fs.readFileSync(aside, 'utf8') !== text) {
        // Not the stale record we judged but another process's fresh lock: put it back (unless a newer
        // one is in place already; the next attempt judges that).
        try {
          fs.linkSync(aside, lockPath);
        } catch {
          // see above
        }
      }
      fs.rmSync(aside, { force: true });
    }
    throw new Error(`could not lock ${lockPath}`);
  } finally {
    fs.rmSync(mine, { force: true });
  }
}
