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

/** float32 bits ↔ value. */
const bitsBuf = new DataView(new ArrayBuffer(4));
function toBits(x: number): number {
  bitsBuf.setFloat32(0, x);
  return bitsBuf.getInt32(0);
}
function fromBits(b: number): number {
  bitsBuf.setInt32(0, b);
  return bitsBuf.getFloat32(0);
}

type F2 = [number, number];

/** double-float helpers of SLEEF's df.h, FMA variants (as built for AVX2). */
function dfadd2FF(x: number, y: number): F2 {
  const s = f(x + y);
  const v = f(s - x);
  return [s, f(f(x - f(s - v)) + f(y - v))];
}
function dfaddF2F2(x: F2, y: F2): F2 {
  const s = f(x[0] + y[0]);
  return [s, f(f(f(f(x[0] - s) + y[0]) + x[1]) + y[1])];
}
function dfaddF2F(x: F2, y: number): F2 {
  const s = f(x[0] + y);
  return [s, f(f(f(x[0] - s) + y) + x[1])];
}
function dfmulF2F(x: F2, y: number): F2 {
  const s = f(x[0] * y);
  return [s, fmaf32(x[1], y, fmaf32(x[0], y, -s))];
}
function dfdiv(n: F2, d: F2): F2 {
  const t = f(1 / d[0]);
  const s = f(n[0] * t);
  const u = fmaf32(t, n[0], -s);
  const v = fmaf32(-d[1], t, fmaf32(-d[0], t, 1));
  return [s, fmaf32(s, v, fmaf32(n[1], t, u))];
}

/**
 * torch's float32 `log` on x86-64: SLEEF's `Sleef_logf8_u10` (xlogf_u1: a
 * double-float evaluation, ≤ 1 ulp, not always correctly rounded — on ~1e-4
 * of inputs it differs from a rounded Math.log).
 */
export function sleefLogf(value: number): number {
  let d = f(value);
  if (Number.isNaN(d) || d < 0) return NaN;
  if (d === 0) return -Infinity;
  if (d === Infinity) return Infinity;
  const tiny = d < 2 ** -126;
  if (tiny) d = f(d * 2 ** 64);
  let e = ((toBits(f(d * f(1 / 0.75))) >> 23) & 0xff) - 0x7f;
  const m = fromBits(toBits(d) - (e << 23));
  if (tiny) e -= 64;
  const x = dfdiv(dfadd2FF(-1, m), dfadd2FF(1, m));
  const x2 = f(x[0] * x[0]);
  let t = f(0.3027294874);
  t = fmaf32(t, x2, f(0.3996108174));
  t = fmaf32(t, x2, f(0.666669488));
  let s = dfmulF2F([f(0.69314718246459960938), f(-1.904654323148236017e-9)], e);
  s = dfaddF2F2(s, [f(x[0] * 2), f(x[1] * 2)]);
  s = dfaddF2F(s, f(f(x2 * x[0]) * t));
  return f(s[0] + s[1]);
}

const PI_A2 = f(3.1414794921875);
const PI_B2 = f(0.00011315941810607910156);
const PI_C2 = f(1.9841872589410058936e-9);
const M_1_PI = f(0.318309886183790671537767526745028724);
const SIN_COEFFS = [2.6083159809786593541503e-6, -0.0001981069071916863322258, 0.00833307858556509017944336].map(f);
const SIN_C3 = f(-0.166666597127914428710938);

/**
 * torch 1.13's float32 `sin` on x86-64: SLEEF's `Sleef_sinf8_u10` (xsinf_u1,
 * FMA build), for |x| < 125 — reduction by π in three parts into a
 * double-float, a degree-7 polynomial in double-float arithmetic. Bit-exact
 * against torch 1.13 on 20000 values in (−60, 60); a rounded Math.sin differs
 * on ~5 % of them. (torch 2.x builds with MKL take sin from MKL's VML instead.)
 */
export function sleefSinf(value: number): number {
  const d = f(value);
  if (!(Math.abs(d) < 125)) return f(Math.sin(d)); // SLEEF's Payne–Hanek path: not needed by lockstep's callers
  const q = rint(f(d * M_1_PI));
  const v = fmaf32(q, -PI_A2, d);
  // dfadd2(v, q·−PI_B2), then dfadd(·, q·−PI_C2): the reduced argument as a double-float (sx, sy).
  let y = f(q * -PI_B2);
  let sx = f(v + y);
  const w = f(sx - v);
  let sy = f(f(v - f(sx - w)) + f(y - w));
  y = f(q * -PI_C2);
  const s2 = f(sx + y);
  sy = f(f(f(sx - s2) + y) + sy);
  sx = s2;
  // dfsqu
  const qx = f(sx * sx);
  const qy = fmaf32(f(sx + sx), sy, fmaf32(sx, sx, -qx));
  let u = SIN_COEFFS[0];
  u = fmaf32(u, qx, SIN_COEFFS[1]);
  u = fmaf32(u, qx, SIN_COEFFS[2]);
  // x = 1 + (C3 + u·s)·s in double-float
  const b = f(u * qx);
  const ax = f(SIN_C3 + b);
  const ay = f(f(SIN_C3 - ax) + b);
  const mx = f(ax * qx);
  const my = fmaf32(ax, qy, fmaf32(ay, qx, fmaf32(ax, qx, -mx)));
  const xx = f(1 + mx);
  const xy = f(f(f(1 - xx) + mx) + my);
  // dfmul_vf_vf2_vf2(t, x)
  let r = fmaf32(sx, xx, fmaf32(sy, xx, f(sx * xy)));
  if (q % 2 !== 0) r = -r;
  return Object.is(d, -0) ? d : r;
}
