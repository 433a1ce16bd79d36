/**
 * A histogram of |candidate − reference| on log-spaced bins (4 per decade),
 * for the report's "where do the errors lie" chart of the worst step. Exact
 * zeros and non-finite pairs cannot sit on a log axis and are counted apart.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { elementReader } from './read.ts';

export const BINS_PER_DECADE = 4;

export interface ErrorHistogram {
  /** Bin i holds |Δ| in [10^(lowExponent + i/BINS_PER_DECADE), 10^(lowExponent + (i+1)/BINS_PER_DECADE)). */
  lowExponent: number;
  binsPerDecade: number;
  counts: number[];
  /** Pairs with |Δ| exactly 0. */
  zeros: number;
  /** Pairs where either side is NaN or ±Infinity. */
  nonFinite: number;
}

export function absErrorHistogram(a: Tensor, b: Tensor): ErrorHistogram {
  const ra = elementReader(a);
  const rb = elementReader(b);
  const n = a.data.length;
  const logs = new Float64Array(n);
  let m = 0;
  let zeros = 0;
  let nonFinite = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(rb(i) - ra(i));
    if (Number.isNaN(d) || d === Infinity) nonFinite++;
    else if (d === 0) zeros++;
    else {
      const l = Math.log10(d);
      logs[m++] = l;
      if (l < lo) lo = l;
      if (l > hi) hi = l;
    }
  }
  if (m === 0) return { lowExponent: 0, binsPerDecade: BINS_PER_DECADE, counts: [], zeros, nonFinite };
  const low = Math.floor(lo);
  const bins = Math.max(1, Math.ceil((Math.floor(hi) + 1 - low) * BINS_PER_DECADE));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < m; i++) counts[Math.min(bins - 1, Math.floor((logs[i] - low) * BINS_PER_DECADE))]++;
  return { lowExponent: low, binsPerDecade: BINS_PER_DECADE, counts, zeros, nonFinite };
}
