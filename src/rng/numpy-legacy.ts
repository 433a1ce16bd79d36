/**
 * numpy's legacy `RandomState(seed).randn`: polar Box–Marsaglia in float64
 * with a cached second value, uniforms from two 32-bit words. Returned as
 * float32 (cast from float64, as the reference files were made).
 */
import { float32, elementCount, type Tensor } from '../tensor/tensor.ts';
import { Mt19937 } from './mt19937.ts';
import { numpySeed32 } from './seed.ts';
import type { NoiseGenerator } from './types.ts';

export class NumpyLegacyGenerator implements NoiseGenerator {
  readonly kind = 'numpy-legacy' as const;
  private readonly mt: Mt19937;
  /** `has_gauss`/`gauss`: the second value of the last polar pair. */
  private cachedGauss: number | undefined;

  constructor(seed: number | bigint) {
    this.mt = new Mt19937(numpySeed32(seed));
  }

  randn(dims: readonly number[]): Tensor<'float32'> {
    const data = new Float32Array(elementCount(dims));
    for (let i = 0; i < data.length; i++) data[i] = this.gauss();
    return float32(dims, data);
  }

  /** The polar method rejects a data-dependent number of pairs: the values must be drawn to know how many words go. */
  skipRandn(dims: readonly number[]): void {
    this.randn(dims);
  }

  /** `random_double` (legacy): 27 + 26 bits → [0, 1) with 53-bit resolution. */
  private uniformF64(): number {
    const a = this.mt.nextUint32() >>> 5;
    const b = this.mt.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `legacy_gauss`. */
  private gauss(): number {
    if (this.cachedGauss !== undefined) {
      const cached = this.cachedGauss;
      this.cachedGauss = undefined;
      return cached;
    }
    let x1: number, x2: number, r2: number;
    do {
      x1 = 2 * this.uniformF64() - 1;
      x2 = 2 * this.uniformF64() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const scale = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.cachedGauss = scale * x1;
    return scale * x2;
  }
}
