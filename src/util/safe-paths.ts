/**
 * Every path lockstep takes from inside a file it reads — an ONNX model's
 * external-data `location`, a trace's tensors, an exchange manifest's `file`
 * entries — is resolved here. Such a path was written by whoever produced the
 * file, not by the user, so it must stay inside the folder it came with, after
 * symlinks are resolved, and name a regular file: never `../../x.bin`, an
 * absolute path, a FIFO (a read that blocks forever) or a device (/dev/zero,
 * a read that never ends). Output folders are replaced only when they are
 * lockstep's own; see `checkReplaceable`.
 */
import { existsSync, lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { availableMemory, formatBytes } from '../models/memory-estimate.ts';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.ts';
import { LOCK_FILE } from './run-lock.ts';

/** What a path names, for messages ("a FIFO", "a character device", …). */
export function describeKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** True when `child` is `root` or inside it (both already resolved). */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves `rel` (as written in `source`) against `root` for reading: refused when it is absolute,
 * leaves `root` (symlinks resolved), or is not a regular file. Returns the joined path (not the
 * real one, so messages show what the file named). A missing file is returned as is when `optional`.
 */
export function containedFile(root: string, rel: string, source: string, opts: { optional?: boolean } = {}): string {
  const path = containedPath(root, rel, source);
  if (!existsSync(path)) {
    if (opts.optional) return path;
    throw new UsageError(`${path}: not found (named by ${source})`);
  }
  const real = realpathSync(path);
  if (!isInside(realpathSync(root), real)) {
    throw new UsageError(`${path}: named by ${source}, it resolves to ${real}, outside ${root}; lockstep reads only inside the folder a file came with`);
  }
  requireRegular(path, source);
  return path;
}

/**
 * Resolves `rel` against `root` for writing: refused when it is absolute or leaves `root`
 * lexically, or when an existing entry on the way is a symlink that leaves `root`.
 */
export function containedOutput(root: string, rel: string, source: string): string {
  const path = containedPath(root, rel, source);
  let probe = path;
  while (!existsSync(probe) && isInside(root, probe) && probe !== root) probe = resolve(probe, '..');
  if (existsSync(probe) && existsSync(root) && !isInside(realpathSync(root), realpathSync(probe))) {
    throw new UsageError(`${path}: named by ${source}, it resolves outside ${root}; lockstep writes only inside the folder it was given`);
  }
  if (existsSync(path) && lstatSync(path).isSymbolicLink()) {
    throw new UsageError(`${path}: named by ${source}, it is a symlink; lockstep does not write through links`);
  }
  return path;
}

function containedPath(root: string, rel: string, source: string): string {
  if (rel === '' || isAbsolute(rel) || /^[A-Za-z]:[\\/]/.test(rel)) {
    throw new UsageError(`${source}: path '${rel}' must be relative to ${root}`);
  }
  const path = resolve(root, rel);
  if (!isInside(resolve(root), path)) {
    throw new UsageError(`${source}: path '${rel}' leaves ${root}; lockstep reads and writes only inside the folder a file came with`);
  }
  return path;
}

/** Refuses anything but a regular file (following symlinks): FIFOs block, devices never end. */
export function requireRegular(path: string, source?: string): Stats {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new UsageError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err });
  }
  if (!st.isFile()) throw new UsageError(`${path}: ${describeKind(st)}, not a regular file${source ? ` (named by ${source})` : ''}; lockstep reads only regular files`);
  return st;
}

/**
 * A regular file small enough to read whole: at most `limit` bytes (default: the memory available).
 * Returns its size.
 */
export function requireReadable(path: string, limit = availableMemory()): number {
  const st = requireRegular(path);
  if (st.size > limit) throw new UsageError(`${path}: ${formatBytes(st.size)}, more than the ${formatBytes(limit)} of memory available to read it`);
  return st.size;
}

/** Every entry under `dir` that is not a folder or regular file, or is a symlink that leaves `dir`. */
export function strayEntries(dir: string): string[] {
  const root = realpathSync(dir);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isSymbolicLink()) {
        const real = existsSync(p) ? realpathSync(p) : null;
        if (real === null || !isInside(root, real)) out.push(`${p} (a symlink to ${real ?? 'nothing'}, outside ${dir})`);
        else if (!statSync(p).isFile() && !statSync(p).isDirectory()) out.push(`${p} (${describeKind(statSync(p))})`);
        continue;
      }
      if (e.isDirectory()) walk(p);
      else if (!e.isFile()) out.push(`${p} (${describeKind(lstatSync(p))})`);
    }
  };
  walk(dir);
  return out;
}

/**
 * An output folder may be replaced only when it is lockstep's own (it holds `marker`, e.g. a trace's
 * manifest.json or a variant's variant.json) or empty, or does not exist; anything else holds the
 * user's files. Throws naming the flag, the folder and the marker.
 */
export function checkReplaceable(dir: string, marker: string, flag: string): void {
  if (!existsSync(dir)) return;
  const st = lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new UsageError(`${flag} ${dir}: exists and is ${st.isSymbolicLink() ? 'a symlink' : describeKind(st)}, not a folder lockstep wrote; choose another path`);
  }
  if (existsSync(join(dir, marker)) || readdirSync(dir).filter((e) => e !== LOCK_FILE).length === 0) return;
  throw new UsageError(`${flag} ${dir}: the folder exists and is not lockstep's (no ${marker}); refusing to replace it — choose a new or empty folder`);
}
