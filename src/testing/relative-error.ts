/** The families' exactness measure: max |a − b| relative to max(1, max |ref|) (the issue's 1e-5 criterion). */
import { expect } from 'vitest';
import { type Tensor, toFloat64 } from '../tensor/tensor.ts';

export function relativeError(expected: Tensor, actual: Tensor): number {
  const e = toFloat64(expected);
  const a = toFloat64(actual);
  expect(a.length).toBe(e.length);
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < e.length; i++) {
    worst = Math.max(worst, Math.abs(e[i] - a[i]));
    scale = Math.max(scale, Math.abs(e[i]));
  }
  return worst / scale;
}
