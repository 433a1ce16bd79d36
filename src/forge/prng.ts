/**
 * Deterministic weights: each parameter gets its own xoshiro128** stream, seeded
 * by splitmix64 from (forge seed, parameter name). Keying by name means adding or
 * reordering one parameter leaves every other parameter's values unchanged.
 */

const MASK64 = (1n << 64n) - 1n;

/** splitmix64 step: returns [next state, output]. */
function splitmix64(state: bigint): [bigint, bigint] {
  const s = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = s;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [s, z ^ (z >> 31n)];
}

/** FNV-1a 64-bit hash of a string's UTF-16 code units. */
function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) h = ((h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & MASK64;
  return h;
}

/** xoshiro128**: fast 32-bit generator, good enough for weights and test data. */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: bigint) {
    let s = seed & MASK64;
    const words: number[] = [];
    for (let k = 0; k < 2; k++) {
      const [next, out] = splitmix64(s);
      s = next;
      words.push(Number(out & 0xffffffffn), Number(out >> 32n));
    }
    [this.a, this.b, this.c, this.d] = words.map((w) => w | 0);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // the all-zero state is a fixed point
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  /** Uniform in [-1, 1) with 24 bits of resolution (exact in float32). */
  nextSymmetric(): number {
    return ((this.nextU32() >>> 8) - 0x800000) / 0x800000;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The generator for one named stream under a seed. */
export function streamFor(seed: number, name: string): Xoshiro128 {
  return new Xoshiro128(BigInt.asUintN(64, BigInt(seed)) ^ fnv1a64(name));
}

/**
 * `count` values uniform in [center - halfWidth, center + halfWidth), from the
 * stream (seed, name). Uniform rather than normal: no transcendental functions,
 * so the bytes cannot depend on a platform's Math.log.
 */
export function uniformWeights(seed: number, name: string, count: number, halfWidth: number, center = 0): Float32Array {
  const rng = streamFor(seed, name);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = center + halfWidth * rng.nextSymmetric();
  return out;
}
