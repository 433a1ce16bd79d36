import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main.ts';
import { writeNpy } from '../tensor/npy.ts';
import { float32 } from '../tensor/tensor.ts';
import { REFERENCE_DIR } from '../testing/paths.ts';
import { diffPaths } from './diff.ts';
import { ERROR_STATS_DIR, expectMatchesNumpy, expectedStats } from '../metrics/testing/numpy-stats.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-diff-'));

describe('lockstep diff', () => {
  it('two .npy files: the metrics of their values', () => {
    writeNpy(join(dir, 'a.npy'), float32([4], [1, 2, 3, 4]));
    writeNpy(join(dir, 'b.npy'), float32([4], [1, 2, 3, 5]));
    const [row] = diffPaths(join(dir, 'a.npy'), join(dir, 'b.npy')).rows;
    expect(row.metrics.maxAbs).toBe(1);
    expect(row.metrics.l1).toBe(0.25);
    expect(row.metrics.maxAbsIndex).toEqual([3]);
  });

  it('two traces: every shared tensor, in execution order', () => {
    const traces = join(REFERENCE_DIR, 'schedulers');
    const result = diffPaths(join(traces, 'ddim_steps10_seed42'), join(traces, 'pndm_steps10_seed42'));
    expect(result.rows[0].tensor).toBe('latents/initial');
    expect(result.rows[0].metrics.maxAbs).toBe(0); // same seed, same generator
    const last = result.rows.find((r) => r.tensor === 'steps/009/latents')!;
    expect(last.metrics.maxAbs).toBeGreaterThan(0); // different schedulers
    expect(result.settingsDiffer.map((d) => d.key)).toContain('scheduler');
  });

  it('prints a table on the CLI and refuses a file against a folder (exit 2)', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    try {
      expect(await main(['node', 'lockstep', 'diff', join(dir, 'a.npy'), join(dir, 'b.npy')])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/cosine/);
    expect(await main(['node', 'lockstep', 'diff', join(dir, 'a.npy'), dir])).toBe(2);
  });

  it('--json gives the report.json keys: quantiles, allclose and worst channel as numpy computes them', async () => {
    const [a, b] = ['reference', 'candidate'].map((s) => join(ERROR_STATS_DIR, `nchw_float32.${s}.npy`));
    for (const want of expectedStats.nchw_float32) {
      const { atol, rtol } = want.allclose;
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
      try {
        expect(await main(['node', 'lockstep', 'diff', a, b, '--json', '--atol', String(atol), '--rtol', String(rtol)])).toBe(0);
      } finally {
        process.stdout.write = write;
      }
      const row = JSON.parse(out.join('')).rows[0].metrics;
      expectMatchesNumpy(row, want);
      expect(row).toHaveProperty('cosine');
    }
    expect(await main(['node', 'lockstep', 'diff', a, b, '--atol', '-1'])).toBe(2);
  });
});
