import { describe, expect, it } from 'vitest';
import { fmaf32 } from './fma.ts';

const f = Math.fround;

/** A finite double as an exact rational m·2^e (m a BigInt). */
function exact(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  const m = biased === 0 ? frac : frac | (1n << 52n);
  const e = (biased === 0 ? 1 : biased) - 1075;
  return { m: x < 0 ? -m : m, e };
}

/** round(a·b + c) to float32 with ties to even, computed in exact integer arithmetic (normal range only). */
function exactFmaF32(a: number, b: number, c: number): number {
  const A = exact(a), B = exact(b), C = exact(c);
  const pe = A.e + B.e;
  const e0 = Math.min(pe, C.e);
  const sum = ((A.m * B.m) << BigInt(pe - e0)) + (C.m << BigInt(C.e - e0));
  if (sum === 0n) return 0;
  const neg = sum < 0n;
  let mag = neg ? -sum : sum;
  // Keep 24 significant bits; round the dropped ones to nearest, ties to even.
  const drop = Math.max(0, mag.toString(2).length - 24);
  let exp = e0 + drop;
  if (drop > 0) {
    const half = 1n << BigInt(drop - 1);
    const rest = mag & ((1n << BigInt(drop)) - 1n);
    mag >>= BigInt(drop);
    if (rest > half || (rest === half && (mag & 1n) === 1n)) mag += 1n;
  }
  const value = Number(mag) * 2 ** exp;
  return neg ? -value : value;
}

/** A deterministic stream of float32 values with varied exponents (xorshift32). */
function* float32s(seed: number, count: number): Generator<number> {
  let s = seed >>> 0 || 1;
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), s >>> 0);
  for (let i = 0; i < count; i++) {
    const mant = 1 + (next() & 0x7fffff) / 0x800000;
    const sign = next() & 1 ? -1 : 1;
    yield f(sign * mant * 2 ** ((next() % 40) - 20));
  }
}

describe('fmaf32', () => {
  it('rounds once where the double sum lands on a float32 midpoint (double rounding would be wrong)', () => {
    const a = f(1 + 2 ** -12); // a·a = 1 + 2^-11 + 2^-24: exactly halfway between two float32 values
    expect(fmaf32(a, a, 2 ** -80)).toBe(1 + 2 ** -11 + 2 ** -23);
    expect(fmaf32(a, a, -(2 ** -80))).toBe(1 + 2 ** -11);
    expect(fmaf32(a, a, 0)).toBe(1 + 2 ** -11); // a true tie goes to even
    // The naive model gets the first one wrong, which is why fmaf32 exists:
    expect(f(a * a + 2 ** -80)).toBe(1 + 2 ** -11);
  });

  it('matches exact rational arithmetic on random and near-cancelling operands', () => {
    const as = [...float32s(1, 4000)];
    const bs = [...float32s(2, 4000)];
    const cs = [...float32s(3, 4000)];
    let checked = 0;
    for (let i = 0; i < as.length; i++) {
      const [a, b] = [as[i], bs[i]];
      // Plain random c, and c = −round(a·b)·(1 + tiny) so the sum cancels to a few bits.
      for (const c of [cs[i], f(-f(a * b)), f(-f(a * b) * (1 + 2 ** -23)), f(cs[i] * 2 ** -30)]) {
        expect(fmaf32(a, b, c), `fma(${a}, ${b}, ${c})`).toBe(exactFmaF32(a, b, c));
        checked++;
      }
    }
    expect(checked).toBe(16000);
  });

  it('agrees with the exact model on constructed midpoint cases with tiny addends of both signs', () => {
    for (const a of float32s(7, 500)) {
      // b = 1 + 2^-12 makes a·b need 36 bits; shift c far below so double addition loses it.
      const b = f(1 + 2 ** -12);
      for (const c of [2 ** -90, -(2 ** -90), f(a * 2 ** -40)]) {
        expect(fmaf32(a, b, c), `fma(${a}, ${b}, ${c})`).toBe(exactFmaF32(a, b, c));
      }
    }
  });
});
