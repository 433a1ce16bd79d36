/**
 * Where goldens live (`<root>/<suite>/<case>/`) and how one is replaced
 * atomically: the new golden is written complete into a temporary sibling
 * (manifest last), then swapped in by two renames. A process killed before
 * the swap leaves the old golden untouched; one killed between the renames
 * leaves it under `.<case>.old`, which the next access restores.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';

let counter = 0;

export function goldenCaseDir(root: string, suite: string, caseName: string): string {
  const dir = join(root, suite, caseName);
  recover(dir, root, suite, caseName);
  return dir;
}

function oldDir(root: string, suite: string, caseName: string): string {
  return join(root, suite, `.${caseName}.old`);
}

/** Restores a golden left aside by an update killed between its two renames. */
function recover(dir: string, root: string, suite: string, caseName: string): void {
  const old = oldDir(root, suite, caseName);
  if (!existsSync(old)) return;
  if (existsSync(dir)) rmSync(old, { recursive: true, force: true });
  else renameSync(old, dir);
}

/** Removes temporary folders of earlier runs that died (their pid is gone). */
function sweepDeadTemps(suiteDir: string, caseName: string): void {
  if (!existsSync(suiteDir)) return;
  const prefix = `.${caseName}.tmp-`;
  for (const name of readdirSync(suiteDir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!isAlive(pid)) rmSync(join(suiteDir, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export type WriteMode = 'record' | 'update';

/** Writes a golden through `fill(tmpDir)`; `record` refuses to replace, `update` replaces atomically. */
export async function writeGolden(root: string, suite: string, caseName: string, mode: WriteMode, fill: (tmp: string) => Promise<void>): Promise<string> {
  const dir = goldenCaseDir(root, suite, caseName);
  const suiteDir = join(root, suite);
  if (mode === 'record' && existsSync(dir)) {
    throw new UsageError(`${dir}: a golden already exists for case "${caseName}"; re-record it with: lockstep golden update <suite> --case ${caseName}`);
  }
  mkdirSync(suiteDir, { recursive: true });
  sweepDeadTemps(suiteDir, caseName);
  const tmp = join(suiteDir, `.${caseName}.tmp-${process.pid}-${counter++}`);
  try {
    mkdirSync(tmp);
    await fill(tmp);
    swapIn(tmp, dir, oldDir(root, suite, caseName));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

function swapIn(tmp: string, dir: string, old: string): void {
  if (!existsSync(dir)) {
    renameSync(tmp, dir);
    return;
  }
  rmSync(old, { recursive: true, force: true });
  renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}
