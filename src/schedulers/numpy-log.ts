/**
 * numpy 1.24's float32 `np.log` on x86-64 with AVX2/AVX512F (the SIMD loop
 * numpy uses for every float32 array, 0-d ones included): mantissa in
 * [√½, √2), a rational 5/5 minimax approximation of log(1 + x) with FMAs, plus
 * exponent·ln 2. Up to 3.8 ulp from the true log, so a rounded Math.log
 * differs on ~8% of inputs; diffusers' log_sigmas come from this routine.
 */
import { fmaf32 } from '../rng/fma.ts';

const f = Math.fround;
const P = [0, 9.999999999999998702752e-1, 2.112677543073053063722, 1.480000633576506585156, 3.808837741388407920751e-1, 2.589979117907922693523e-2].map(f);
const Q = [1, 2.612677543073109236779, 2.453006071784736363091, 9.864942958519418960339e-1, 1.546476374983906719538e-1, 5.875095403124574342950e-3].map(f);
const LN2 = f(0.693147180559945309417);
const SQRT1_2 = f(0.707106781186547524401);

/** x = m·2^e with m in [0.5, 1), for finite x > 0 (subnormals included). */
function frexp(x: number): { m: number; e: number } {
  let e = Math.floor(Math.log2(x)) + 1;
  let m = x / 2 ** e;
  // log2 can be off by one next to powers of two.
  if (m >= 1) { m /= 2; e += 1; }
  if (m < 0.5) { m *= 2; e -= 1; }
  return { m, e };
}

export function numpyLogF32(value: number): number {
  const x = f(value);
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let { m, e } = frexp(x);
  if (m <= SQRT1_2) {
    m = f(m + m);
    e -= 1;
  }
  const y = f(m - 1);
  let num = fmaf32(P[5], y, P[4]);
  let den = fmaf32(Q[5], y, Q[4]);
  for (let k = 3; k >= 0; k--) {
    num = fmaf32(num, y, P[k]);
    den = fmaf32(den, y, Q[k]);
  }
  return fmaf32(e, LN2, f(num / den));
}
