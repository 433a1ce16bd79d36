/**
 * A lock file that keeps two runs from writing the same report or trace
 * folder at once (one would silently replace the other's files). The file
 * holds the owner's pid; a lock whose pid is no longer alive is stale (a run
 * that was killed) and is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';

export const LOCK_FILE = '.lockstep.lock';

export interface RunLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the lock of `dir` (created if missing) for this process. Throws a UsageError naming the
 * holder's pid when another live process holds it. When the folder cannot be created (e.g. its
 * parent is a file) no lock is taken: the run's first write reports that error, naming its file.
 */
export function acquireLock(dir: string, flag: string): RunLock {
  const file = join(dir, LOCK_FILE);
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return { file, release: () => {} };
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { file, release: () => {} };
      const holder = readHolder(file);
      if (holder !== null && isAlive(holder)) {
        throw new UsageError(`${flag} ${dir}: another lockstep run (pid ${holder}) is writing this folder (lock ${file}); wait for it to finish or choose another folder`);
      }
      rmSync(file, { force: true }); // stale: its owner is gone
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return { file, release: () => releaseIfOurs(file) };
  }
  throw new UsageError(`${flag} ${dir}: could not take the lock ${file}; another run keeps taking it`);
}

function readHolder(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
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

function releaseIfOurs(file: string): void {
  if (readHolder(file) === process.pid) rmSync(file, { force: true });
}
