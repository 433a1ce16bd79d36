/**
 * Single-precision fused multiply-add: round(a·b + c) to float32 with one
 * rounding, for float32 operands a, b, c.
 *
 * Why this is exact: the product of two float32 values has at most 48
 * significant bits, so `a * b` is exact in a double. The double sum `s = p + c`
 * may be inexact, and rounding it again to float32 (double rounding) goes
 * wrong exactly when `s` lands on a midpoint between two float32 values while
 * the true sum lies off it. TwoSum gives the sum's exact error `err`; if `s`
 * is such a midpoint and `err ≠ 0`, the true sum lies on err's side, so we
 * round that way. Anywhere else `s` and the true sum round to the same float32
 * (a midpoint is a double, and the true sum is within half a double ulp of s).
 */
export function fmaf32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = Math.fround(s);
  if (r === s) return r;
  // If s is a float32 midpoint, its reflection through s is the other neighbour. Nearly every s is not
  // one, so this cheaper test comes before TwoSum (both only ever decide "r is right").
  const other = 2 * s - r;
  if (Math.fround(other) !== other) return r;
  const bv = s - p;
  const err = p - (s - bv) + (c - bv);
  if (err === 0) return r;
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}
