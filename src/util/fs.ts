/** Filesystem helpers: nothing the project writes is ever left half-written. */
import { mkdirSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { UsageError } from '../errors.ts';
import { stringifyPythonJson } from './json.ts';

let counter = 0;

/** Writes to a temporary sibling, then renames over the target; a filesystem error names `path` (exit 2, no stack). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    removeQuietly(tmp);
    throw cannotWrite(path, err);
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // The folder itself is unusable (e.g. its parent is a file): nothing was written.
  }
}

function cannotWrite(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (!code) return err;
  return new UsageError(`${path}: cannot write (${(err as Error).message})`, { cause: err });
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** As writeJsonAtomic, in Python's JSON dialect: non-finite numbers kept (trace manifests, scheduler configs). */
export function writePythonJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, stringifyPythonJson(value) + '\n');
}
