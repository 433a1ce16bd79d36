/**
 * MT19937, the 32-bit Mersenne Twister of Matsumoto & Nishimura, seeded with
 * `init_genrand`. torch's CPU generator (`at::mt19937`) and numpy's legacy
 * `RandomState` both produce exactly this raw stream for a 32-bit seed.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  /** `seed32` must be an integer in [0, 2^32); callers reduce wider seeds first. */
  constructor(seed32: number) {
    const mt = this.state;
    mt[0] = seed32 >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1];
      // 1812433253 * (prev ^ (prev >>> 30)) + i, modulo 2^32.
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  /** The next raw 32-bit word, as an unsigned integer. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Advances the stream by `count` words, as `count` calls of nextUint32 would, without tempering them. */
  skip(count: number): void {
    let left = count;
    while (left > 0) {
      if (this.index >= N) this.twist();
      const take = Math.min(left, N - this.index);
      this.index += take;
      left -= take;
    }
  }

  private twist(): void {
    const mt = this.state;
    for (let k = 0; k < N; k++) {
      const y = (mt[k] & UPPER_MASK) | (mt[(k + 1) % N] & LOWER_MASK);
      mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }
}
