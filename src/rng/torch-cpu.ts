/**
 * A bit-exact model of `torch.Generator('cpu')` as of torch 1.13: the
 * MT19937 stream and the `randn`/`rand` algorithms of aten's CPU kernels.
 */
import { float32, elementCount, type Tensor } from '../tensor/tensor.ts';
import { Mt19937 } from './mt19937.ts';
import { normalFill16Avx2, normalFill16Scalar, type NormalKernel } from './normal-fill.ts';
import { torchSeed32 } from './seed.ts';
import type { NoiseGenerator } from './types.ts';

export interface TorchCpuOptions {
  /**
   * Which `normal_fill` build to reproduce for float32 draws of ≥16 elements:
   * 'avx2' (default; what torch runs on any x86-64 CPU with AVX2) or 'scalar'
   * (the portable kernel, `ATEN_CPU_CAPABILITY=default`, with glibc's libm).
   * Both reproduce the reference files bit for bit. Draws of < 16 elements
   * use the same double-precision path under either.
   */
  kernel?: NormalKernel;
}

const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_32 = 2 ** 32;

export class TorchCpuGenerator implements NoiseGenerator {
  readonly kind = 'torch-cpu' as const;
  readonly kernel: NormalKernel;
  private readonly fill16: (d: Float32Array, at: number) => void;
  private mt: Mt19937;
  /** torch's `next_double_normal_sample_`: the Box–Muller sine half, kept between calls. */
  private cachedNormal: number | undefined;

  /** Like `torch.Generator('cpu').manual_seed(seed)`; seeds ≥ 2^32 use their low 32 bits (see seed.ts). */
  constructor(seed: number | bigint, options: TorchCpuOptions = {}) {
    this.kernel = options.kernel ?? 'avx2';
    this.fill16 = this.kernel === 'avx2' ? normalFill16Avx2 : normalFill16Scalar;
    this.mt = new Mt19937(torchSeed32(seed));
  }

  /** `manual_seed`: restarts the stream and drops the cached normal. */
  manualSeed(seed: number | bigint): void {
    this.mt = new Mt19937(torchSeed32(seed));
    this.cachedNormal = undefined;
  }

  /** `torch.randn(dims, generator=g)`, float32. */
  randn(dims: readonly number[]): Tensor<'float32'> {
    const n = elementCount(dims);
    const data = new Float32Array(n);
    if (n >= 16) this.normalFill(data);
    else for (let i = 0; i < n; i++) data[i] = this.nextDoubleNormal();
    return float32(dims, data);
  }

  /**
   * Where `randn(dims)` leaves the stream: ≥16 elements take one word each (and 16 more for a redrawn
   * tail), without the Box–Muller transform that is most of randn's cost; fewer go the cached double path.
   */
  skipRandn(dims: readonly number[]): void {
    const n = elementCount(dims);
    if (n < 16) this.randn(dims);
    else this.mt.skip(n % 16 === 0 ? n : n + 16);
  }

  /** `torch.rand(dims, generator=g)`, float32: one 32-bit word per element. */
  rand(dims: readonly number[]): Tensor<'float32'> {
    const data = new Float32Array(elementCount(dims));
    this.fillUniformF32(data, 0, data.length);
    return float32(dims, data);
  }

  /** `uniform_real_distribution<float>(0, 1)`: low 24 bits of one word × 2^−24. */
  private fillUniformF32(d: Float32Array, from: number, to: number): void {
    for (let i = from; i < to; i++) d[i] = (this.mt.nextUint32() & 0xffffff) * TWO_POW_M24;
  }

  /** `uniform_real_distribution<double>(0, 1)`: `random64()` (first word high) masked to 53 bits × 2^−53. */
  private uniformF64(): number {
    const hi = this.mt.nextUint32() & 0x1fffff; // the 21 high bits that survive the 53-bit mask
    const lo = this.mt.nextUint32();
    return (hi * TWO_POW_32 + lo) * TWO_POW_M53;
  }

  /** `normal_distribution<double>(0, 1)`: double Box–Muller, the sine half cached for the next call. */
  private nextDoubleNormal(): number {
    if (this.cachedNormal !== undefined) {
      const cached = this.cachedNormal;
      this.cachedNormal = undefined;
      return cached;
    }
    const u1 = this.uniformF64();
    const u2 = this.uniformF64();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** float32 `normal_fill` for n ≥ 16: uniforms first, then blocks of 16, then a redrawn tail. */
  private normalFill(d: Float32Array): void {
    const n = d.length;
    this.fillUniformF32(d, 0, n);
    for (let i = 0; i + 16 <= n; i += 16) this.fill16(d, i);
    if (n % 16 !== 0) {
      this.fillUniformF32(d, n - 16, n);
      this.fill16(d, n - 16);
    }
  }
}
