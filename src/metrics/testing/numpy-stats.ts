/** numpy's error statistics for the committed .npy pairs (scripts/reference/error-stats.py), and how tests compare with them. */
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from '../../testing/paths.ts';
import { readPythonJson } from '../../util/json.ts';
import type { ErrorStatistics } from '../error-stats.ts';

/** numpy's answers: scripts/reference/error-stats.py. */
export const ERROR_STATS_DIR = join(REPO_ROOT, 'test/reference/error-stats');
export const expectedStats = (readPythonJson(join(ERROR_STATS_DIR, 'expected.json')) as { cases: Record<string, ErrorStatistics[]> }).cases;

/** Quantiles and counts exactly; per-channel sums to float64 summation-order noise. */
export function expectMatchesNumpy(got: ErrorStatistics, want: ErrorStatistics): void {
  expect(got.absErrQuantiles).toEqual(want.absErrQuantiles);
  expect(got.allclose).toEqual(want.allclose);
  if (!want.worstChannel) return expect(got.worstChannel).toBeUndefined();
  expect(got.worstChannel!.index).toBe(want.worstChannel.index);
  for (const k of ['cosine', 'relL2'] as const) {
    const [g, w] = [got.worstChannel![k], want.worstChannel[k]];
    if (Number.isFinite(w)) expect(Math.abs(g - w)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w)));
    else expect(g).toBe(w);
  }
}

