/**
 * torch's float32 `exp` on x86-64: aten's AVX2 kernels call SLEEF's
 * `Sleef_expf8_u10` even for a 0-d tensor (vec::map pads the tail), and it is
 * not correctly rounded — DPM-Solver's exp(−h) differs from a rounded
 * Math.exp by 1 ulp on SD's first step. This follows SLEEF's xexpf
 * (Cody–Waite reduction by ln 2, degree-6 polynomial, FMA on AVX2).
 */
import { fmaf32 } from '../rng/fma.ts';

const f = Math.fround;
const R_LN2 = f(1.442695040888963407359924681001892137426645954152985934135449406931);
const L2U = f(0.693145751953125);
const L2L = f(1.428606765330187045e-6);
const P = [
  0.000198527617612853646278381, 0.00139304355252534151077271, 0.00833336077630519866943359,
  0.0416664853692054748535156, 0.166666671633720397949219, 0.5,
].map(f);

/** rint: round half to even, as vrint does. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function sleefExpf(d: number): number {
  d = f(d);
  if (Number.isNaN(d)) return NaN;
  if (d > 1e10) return Infinity;
  if (d < -104) return 0;
  const q = rint(f(d * R_LN2));
  let s = fmaf32(q, -L2U, d);
  s = fmaf32(q, -L2L, s);
  let u = P[0];
  for (let i = 1; i < P.length; i++) u = fmaf32(u, s, P[i]);
  u = f(1 + fmaf32(f(s * s), u, s));
  return f(u * 2 ** q);
}
