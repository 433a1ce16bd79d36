/** The machine a bench ran on. */
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { ORT_VERSION } from '../src/version.ts';

export interface Machine {
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  /** 1-minute load average when the bench started and ended: other work on the machine skews timings. */
  loadAverage1m: { start: number; end?: number };
  node: string;
  onnxruntime: string;
  platform: string;
}

export function machine(): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    totalMemoryBytes: totalmem(),
    freeMemoryBytes: availableMemory(),
    loadAverage1m: { start: round(loadavg()[0]) },
    node: process.version,
    onnxruntime: ORT_VERSION,
    platform: `${process.platform}-${process.arch}`,
  };
}

export const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** MemAvailable from /proc/meminfo (free + reclaimable cache) on Linux, else os.freemem(). */
export function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return freemem();
}
