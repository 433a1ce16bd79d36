/**
 * numpy 1.24's float32 `np.log` on x86-64 (AVX512F / AVX2+FMA3 loops of
 * loops_exponent_log.dispatch.c.src): not correctly rounded — about 8% of
 * results differ by an ulp from a rounded Math.log, and DEIS's coefficients
 * (differences of such logs) amplify that. Mantissa in [√½, √2), a 5/5
 * rational minimax polynomial for log(1+x) with FMAs, plus e·ln2.
 */
import { fmaf32 } from '../rng/fma.ts';

const f = Math.fround;
const P = [0.0, 9.999999999999998702752e-1, 2.112677543073053063722, 1.480000633576506585156, 3.808837741388407920751e-1, 2.589979117907922693523e-2].map(f);
const Q = [1.0, 2.612677543073109236779, 2.453006071784736363091, 9.864942958519418960339e-1, 1.546476374983906719538e-1, 5.875095403124574342950e-3].map(f);
const LOGE2 = f(0.693147180559945309417232121458176568);
const SQRT1_2 = f(0.707106781186547524400844362104849039);

/** Horner with FMAs from the highest coefficient down, as the SIMD loop does. */
function horner(c: readonly number[], x: number): number {
  let acc = fmaf32(c[5], x, c[4]);
  for (let k = 3; k >= 0; k--) acc = fmaf32(acc, x, c[k]);
  return acc;
}

/** np.log(np.float32(x)). */
export function numpyLogF32(value: number): number {
  const x = f(value);
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  // getexp + 1 and getmant in [0.5, 1): x = m·2^e (float32 subnormals included: Math.log2 is exact on powers of two).
  let e = Math.floor(Math.log2(x)) + 1;
  let m = f(x / 2 ** e);
  if (m >= 1) {
    m = f(m / 2);
    e += 1;
  } else if (m < 0.5) {
    m = f(m * 2);
    e -= 1;
  }
  if (m <= SQRT1_2) {
    m = f(m + m);
    e -= 1;
  }
  const t = f(m - 1);
  const poly = f(horner(P, t) / horner(Q, t));
  return fmaf32(e, LOGE2, poly);
}
