/**
 * One lane of pytorch's `avx_mathfun.h` (`log256_ps`, `sincos256_ps`): the
 * Cephes-style single-precision log and sincos polynomials that torch's AVX2
 * `normal_fill_16_AVX2` kernel uses, evaluated in float32.
 *
 * Bit-exactness also needs the fused multiply-adds that GCC forms from the
 * intrinsics under its default `-ffp-contract=fast`: a multiply whose only use
 * is an add/sub becomes an FMA, taking the first such multiply in statement
 * order (so `y·z + e·q1` fuses on `y·z`, and `e·q1` is rounded on its own).
 * Each `fmaf32` below marks one such contraction; every other operation is a
 * separately rounded float32 op (`f`).
 */
import { fmaf32 } from './fma.ts';

const f = Math.fround;

const SQRTHF = f(0.707106781186547524);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);

const MINUS_DP1 = f(-0.78515625);
const MINUS_DP2 = f(-2.4187564849853515625e-4);
const MINUS_DP3 = f(-3.77489497744594108e-8);
const SINCOF_P0 = f(-1.9515295891e-4);
const SINCOF_P1 = f(8.3321608736e-3);
const SINCOF_P2 = f(-1.6666654611e-1);
const COSCOF_P0 = f(2.443315711809948e-5);
const COSCOF_P1 = f(-1.388731625493765e-3);
const COSCOF_P2 = f(4.166664568298827e-2);
const FOPI = f(1.27323954473516); // 4 / pi

const bits = new DataView(new ArrayBuffer(4));

/** `log256_ps` for one positive normal float32 `x` (the kernel only sees x in (0, 1]). */
export function logCephesF32(x: number): number {
  bits.setFloat32(0, x, true);
  const word = bits.getUint32(0, true);
  let e = f((word >>> 23) - 0x7f + 1);
  // Mantissa scaled into [0.5, 1): clear the exponent field, OR in 0.5's.
  bits.setUint32(0, (word & ~0x7f800000) | 0x3f000000, true);
  let m = bits.getFloat32(0, true);
  if (m < SQRTHF) {
    e = f(e - 1);
    m = f(f(m - 1) + m);
  } else {
    m = f(m - 1);
  }
  const z = f(m * m);
  let y = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) y = fmaf32(y, m, LOG_P[k]);
  y = f(y * m);
  y = fmaf32(y, z, f(e * LOG_Q1));
  y = f(y - z * 0.5); // 0.5·z is exact, so fused or not this rounds once
  return f(f(m + y) + e * LOG_Q2); // e·q2 is exact (9-bit constant, small integer e)
}

/** Results of `sincosCephesF32`, reused to keep the hot loop allocation-free. */
export const sincosOut = { sin: 0, cos: 0 };

/** `sincos256_ps` for one non-negative float32 `x` (θ = 2π·u in the kernel); writes `sincosOut`. */
export function sincosCephesF32(x: number): void {
  const negIn = x < 0;
  x = Math.abs(x);
  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  const y = j; // small integer: exact in float32
  x = fmaf32(y, MINUS_DP1, x);
  x = fmaf32(y, MINUS_DP2, x);
  x = fmaf32(y, MINUS_DP3, x);

  const sinNeg = negIn !== ((j & 4) !== 0);
  const cosNeg = (~(j - 2) & 4) !== 0;
  const useSinPoly = (j & 2) === 0;

  const z = f(x * x);
  let yc = fmaf32(COSCOF_P0, z, COSCOF_P1);
  yc = fmaf32(yc, z, COSCOF_P2);
  yc = f(yc * z);
  yc = fmaf32(yc, z, -f(z * 0.5));
  yc = f(yc + 1);

  let ys = fmaf32(SINCOF_P0, z, SINCOF_P1);
  ys = fmaf32(ys, z, SINCOF_P2);
  ys = f(ys * z);
  ys = fmaf32(ys, x, x);

  const s = useSinPoly ? ys : yc;
  const c = useSinPoly ? yc : ys;
  sincosOut.sin = sinNeg ? -s : s;
  sincosOut.cos = cosNeg ? -c : c;
}
