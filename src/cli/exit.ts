import type { Command } from 'commander';

/** A command sets its exit code here (0 pass, 1 regression); errors are thrown instead. */
export function setExitCode(cmd: Command, code: number): void {
  let root = cmd;
  while (root.parent) root = root.parent;
  (root as Command & { lockstepExitCode?: number }).lockstepExitCode = code;
}
