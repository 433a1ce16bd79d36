import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../tensor/npy.ts';
import { float32 } from '../tensor/tensor.ts';
import { errorStatistics, quantiles, type Tolerance } from './error-stats.ts';
import { ERROR_STATS_DIR, expectMatchesNumpy, expectedStats } from './testing/numpy-stats.ts';

describe('errorStatistics against numpy', () => {
  for (const [name, perTolerance] of Object.entries(expectedStats)) {
    it(name, () => {
      const a = readNpy(join(ERROR_STATS_DIR, `${name}.reference.npy`));
      const b = readNpy(join(ERROR_STATS_DIR, `${name}.candidate.npy`));
      for (const want of perTolerance) {
        const tol: Tolerance = { atol: want.allclose.atol, rtol: want.allclose.rtol };
        expectMatchesNumpy(errorStatistics(a, b, tol), want);
      }
    });
  }
});

describe('quantiles', () => {
  it('match a full sort with numpy linear interpolation on random data of many sizes', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const [n, spread] of [[1, 0], [2, 0], [3, 0], [10, 0], [999, 0], [1000, 12], [1001, 0], [4097, 12], [50000, 30]]) {
      // Ties, zeros, and values over many decades (several radix bins).
      const v = Float64Array.from({ length: n }, () => (rand() < 0.2 ? 0.5 : rand() < 0.05 ? 0 : spread ? 10 ** (-spread * rand()) : rand()));
      const sorted = Float64Array.from(v).sort();
      const at = (q: number) => {
        const h = (n - 1) * q;
        if (h >= n - 1) return sorted[n - 1];
        const lo = Math.floor(h);
        const t = h - lo;
        const d = sorted[lo + 1] - sorted[lo];
        return t >= 0.5 ? sorted[lo + 1] - d * (1 - t) : sorted[lo] + d * t;
      };
      expect(quantiles(v)).toEqual({ p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999) });
    }
  });

  it('are 0 when nothing is compared, and worstChannel only exists for 4-D tensors', () => {
    const s = errorStatistics(float32([2], [NaN, 1]), float32([2], [1, Infinity]));
    expect(s.absErrQuantiles).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0 });
    expect(s.allclose.mismatched).toBe(2);
    expect(s.worstChannel).toBeUndefined();
  });
});
