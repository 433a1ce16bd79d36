import { halfToFloat, type Tensor } from '../tensor/tensor.ts';

/** Reads element i of any tensor as a number, converting float16 and int64 per element (no copy). */
export type ElementReader = (i: number) => number;

export function elementReader(t: Tensor): ElementReader {
  if (t.dtype === 'float16') {
    const bits = t.data as Uint16Array;
    return (i) => halfToFloat(bits[i]);
  }
  if (t.dtype === 'int64') {
    const big = t.data as BigInt64Array;
    return (i) => Number(big[i]);
  }
  const d = t.data as ArrayLike<number>;
  return (i) => d[i];
}
