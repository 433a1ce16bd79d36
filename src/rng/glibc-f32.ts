/**
 * glibc's single-precision `logf`, `sinf` and `cosf` (sysdeps/ieee754/flt-32,
 * the Arm-contributed implementations glibc has used since 2.28): evaluated in
 * double from small tables and polynomials, then rounded to float once. They
 * are not correctly rounded (logf ≤ 0.82 ulp, sinf/cosf ≤ 0.56 ulp), so
 * torch's portable `normal_fill_16` can only be reproduced bit for bit by
 * modelling them, not with `Math.fround(Math.log(x))`.
 *
 * glibc also ships FMA-compiled variants that x86-64 CPUs with FMA select at
 * run time; with or without fused operations this model reproduces every
 * element of the reference `randn/scalar_path/` files, so the plain double
 * form is kept.
 */

/** Parses a C99 hexadecimal float such as `-0x1.57bf7808caadep-2` exactly. */
function hexFloat(text: string): number {
  const m = /^(-?)0x([0-9a-f])\.?([0-9a-f]*)p([+-]?\d+)$/i.exec(text);
  if (!m) throw new Error(`bad hex float ${text}`);
  const digits = m[2] + m[3]; // at most 14 hex digits = 53 bits: exact in a double
  const value = parseInt(digits, 16) * 2 ** (Number(m[4]) - 4 * m[3].length);
  return m[1] ? -value : value;
}

const f32 = new DataView(new ArrayBuffer(4));
function floatBits(x: number): number {
  f32.setFloat32(0, x);
  return f32.getUint32(0);
}
function bitsToFloat(bits: number): number {
  f32.setUint32(0, bits >>> 0);
  return f32.getFloat32(0);
}

// ---- logf (e_logf.c, e_logf_data.c) ----

/** (1/c, log c) for 16 subintervals of [OFF, 2·OFF). */
const LOGF_TABLE = [
  ['0x1.661ec79f8f3bep+0', '-0x1.57bf7808caadep-2'],
  ['0x1.571ed4aaf883dp+0', '-0x1.2bef0a7c06ddbp-2'],
  ['0x1.49539f0f010bp+0', '-0x1.01eae7f513a67p-2'],
  ['0x1.3c995b0b80385p+0', '-0x1.b31d8a68224e9p-3'],
  ['0x1.30d190c8864a5p+0', '-0x1.6574f0ac07758p-3'],
  ['0x1.25e227b0b8eap+0', '-0x1.1aa2bc79c81p-3'],
  ['0x1.1bb4a4a1a343fp+0', '-0x1.a4e76ce8c0e5ep-4'],
  ['0x1.12358f08ae5bap+0', '-0x1.1973c5a611cccp-4'],
  ['0x1.0953f419900a7p+0', '-0x1.252f438e10c1ep-5'],
  ['0x1p+0', '0x0p+0'],
  ['0x1.e608cfd9a47acp-1', '0x1.aa5aa5df25984p-5'],
  ['0x1.ca4b31f026aap-1', '0x1.c5e53aa362eb4p-4'],
  ['0x1.b2036576afce6p-1', '0x1.526e57720db08p-3'],
  ['0x1.9c2d163a1aa2dp-1', '0x1.bc2860d22477p-3'],
  ['0x1.886e6037841edp-1', '0x1.1058bc8a07ee1p-2'],
  ['0x1.767dcf5534862p-1', '0x1.4043057b6ee09p-2'],
];
const LOGF_INVC = Float64Array.from(LOGF_TABLE, ([invc]) => hexFloat(invc));
const LOGF_LOGC = Float64Array.from(LOGF_TABLE, ([, logc]) => hexFloat(logc));
const LN2 = hexFloat('0x1.62e42fefa39efp-1');
const [LOGF_A0, LOGF_A1, LOGF_A2] = ['-0x1.00ea348b88334p-2', '0x1.5575b0be00b6ap-2', '-0x1.ffffef20a4123p-2'].map(hexFloat);
const LOGF_OFF = 0x3f330000;

/** glibc `logf` for positive normal float32 x (the only inputs torch's kernel gives it: 1 − u in (0, 1]). */
export function glibcLogf(x: number): number {
  const ix = floatBits(x);
  if (ix === 0x3f800000) return 0;
  if (ix < 0x00800000 || ix >= 0x7f800000) return Math.fround(Math.log(x)); // zero, subnormal, negative, inf, NaN: not reached
  // x = 2^k·z with z in [OFF, 2·OFF); the table entry i brackets z.
  const tmp = (ix - LOGF_OFF) >>> 0;
  const i = (tmp >>> 19) & 15;
  const k = (tmp | 0) >> 23;
  const z = bitsToFloat(ix - (tmp & 0xff800000));
  const r = z * LOGF_INVC[i] - 1;
  const y0 = LOGF_LOGC[i] + k * LN2;
  const r2 = r * r;
  let y = LOGF_A1 * r + LOGF_A2;
  y = LOGF_A0 * r2 + y;
  y = y * r2 + (y0 + r);
  return Math.fround(y);
}

// ---- sinf, cosf (s_sinf.c, s_cosf.c, s_sincosf.h, sincosf_poly.h, s_sincosf_data.c) ----

/** 2/π · 2^24: x86-64 builds have no fast round-to-int, so the quadrant comes out in bits 24..31. */
const HPI_INV = hexFloat('0x1.45F306DC9C883p+23');
const HPI = hexFloat('0x1.921FB54442D18p0');
const [C0, C1, C2, C3, C4] = ['0x1p0', '-0x1.ffffffd0c621cp-2', '0x1.55553e1068f19p-5', '-0x1.6c087e89a359dp-10', '0x1.99343027bf8c3p-16'].map(hexFloat);
const [S1, S2, S3] = ['-0x1.555545995a603p-3', '0x1.1107605230bc4p-7', '-0x1.994eb3774cf24p-13'].map(hexFloat);
const QUADRANT_SIGN = [1, -1, -1, 1];

/** `abstop12`: exponent and 3 leading mantissa bits, sign cleared — glibc's coarse range test. */
const abstop12 = (y: number): number => (floatBits(y) >>> 20) & 0x7ff;
const TOP_PIO4 = abstop12(Math.fround(hexFloat('0x1.921FB54442D18p-1')));
const TOP_TINY = abstop12(2 ** -12);
const TOP_120 = abstop12(120);

/** `sinf_poly`: the sine polynomial for even n, the cosine one (negated when `negateCos`) for odd n. */
function sinfPoly(x: number, x2: number, n: number, negateCos: boolean): number {
  if ((n & 1) === 0) {
    const x3 = x * x2;
    const s1 = S2 + x2 * S3;
    const x7 = x3 * x2;
    const s = x + x3 * S1;
    return Math.fround(s + x7 * s1);
  }
  const sign = negateCos ? -1 : 1; // the second table entry holds the negated cosine coefficients
  const x4 = x2 * x2;
  const c2 = sign * C3 + x2 * (sign * C4);
  const c1 = sign * C0 + x2 * (sign * C1);
  const x6 = x4 * x2;
  const c = c1 + x4 * (sign * C2);
  return Math.fround(c + x6 * c2);
}

function sinOrCos(y: number, cosine: boolean): number {
  const top = abstop12(y);
  if (top < TOP_PIO4) {
    if (top < TOP_TINY) return cosine ? 1 : y;
    return sinfPoly(y, y * y, cosine ? 1 : 0, false);
  }
  if (top >= TOP_120) {
    // glibc switches to a 192-bit reduction here; torch's θ = 2π·u never gets this far.
    throw new RangeError(`glibc sinf/cosf model covers |x| < 120, got ${y}`);
  }
  // reduce_fast: one multiply-subtract, quadrant n rounded via the scaled integer part.
  const n = ((Math.trunc(y * HPI_INV) | 0) + 0x800000) >> 24;
  const x = y - n * HPI;
  const s = QUADRANT_SIGN[n & 3];
  return sinfPoly(x * s, x * x, cosine ? n ^ 1 : n, (n & 2) !== 0);
}

/** glibc `sinf` for |x| < 120. */
export function glibcSinf(x: number): number {
  return sinOrCos(Math.fround(x), false);
}

/** glibc `cosf` for |x| < 120. */
export function glibcCosf(x: number): number {
  return sinOrCos(Math.fround(x), true);
}
