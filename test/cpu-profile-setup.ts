/**
 * With LOCKSTEP_TEST_CPU=FILE (vitest.config.ts adds this setup file then):
 * appends one JSON line per test file with its CPU seconds — the worker's own
 * (from this file's setup, so importing and transforming the test's modules
 * counts) and its finished child processes' (CLI runs, npm, tsc) — and wall
 * seconds. scripts/test-cpu.ts sums them: where `npm test`'s time goes,
 * independent of how busy the machine was (docs/benchmarks.md).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { afterAll, expect } from 'vitest';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime, stime, cutime, cstime of this process, in seconds (/proc/self/stat fields 14-17). */
function cpuTimes(): { own: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // fields[0] is field 3 (state); utime is field 14 → index 11.
  return { own: (fields[11]! + fields[12]!) / TICKS_PER_SECOND, children: (fields[13]! + fields[14]!) / TICKS_PER_SECOND };
}

const start = cpuTimes();
const startWall = performance.now();

afterAll(() => {
  const end = cpuTimes();
  const file = relative(process.cwd(), expect.getState().testPath ?? 'unknown');
  const line = { file, ownCpuS: end.own - start.own, childrenCpuS: end.children - start.children, wallS: (performance.now() - startWall) / 1000 };
  appendFileSync(process.env.LOCKSTEP_TEST_CPU!, `${JSON.stringify(line)}\n`);
});
