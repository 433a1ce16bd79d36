/**
 * This process's own peak resident set size. On Linux, `process.resourceUsage().maxRSS`
 * (getrusage) is not that: the kernel carries the high-water mark across fork and exec,
 * and a fork starts with the parent's resident pages, so a child spawned by a large
 * parent reports at least the parent's RSS. VmHWM in /proc/self/status belongs to the
 * memory map exec gave this process, so it is the process's own peak.
 */
import { readFileSync } from 'node:fs';

export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux: fall through */
  }
  // Elsewhere getrusage's peak, in KiB (libuv's unit on every platform).
  return process.resourceUsage().maxRSS * 1024;
}
