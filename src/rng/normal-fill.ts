/**
 * torch 1.13's in-place Box–Muller for float32 tensors of 16 or more
 * elements (`normal_fill` in aten/src/ATen/native/cpu/DistributionTemplates.h):
 * the buffer already holds float32 uniforms; each block of 16 pairs slot j with
 * j+8 (j < 8): u1 = 1 − d[j], u2 = d[j+8], r = sqrt(−2·ln u1), θ = 2π·u2,
 * d[j] = r·cos θ, d[j+8] = r·sin θ. Mean 0 and std 1, as `randn` uses.
 */
import { logCephesF32, sincosCephesF32, sincosOut } from './cephes-f32.ts';
import { glibcCosf, glibcLogf, glibcSinf } from './glibc-f32.ts';

const f = Math.fround;

/** Which build of torch's kernel to reproduce. */
export type NormalKernel = 'avx2' | 'scalar';

/** `_mm256_set1_ps(2.0f * c10::pi<double>)`: 2π rounded to float32. */
const TWO_PI_F32 = f(2 * Math.PI);

/** `normal_fill_16_AVX2`: Cephes float32 log and sincos (avx_mathfun.h). */
export function normalFill16Avx2(d: Float32Array, at: number): void {
  for (let j = at; j < at + 8; j++) {
    const u1 = f(1 - d[j]);
    const radius = f(Math.sqrt(f(-2 * logCephesF32(u1))));
    sincosCephesF32(f(TWO_PI_F32 * d[j + 8]));
    // The kernel's final fmadd(n, std=1, mean=0) is exact except that it turns −0 into +0.
    d[j] = f(radius * sincosOut.cos) + 0;
    d[j + 8] = f(radius * sincosOut.sin) + 0;
  }
}

/**
 * The portable `normal_fill_16` (ATEN_CPU_CAPABILITY=default) with the C
 * library's `logf`/`cosf`/`sinf` modelled as glibc computes them
 * (glibc-f32.ts). θ is computed in double, `2.0f * pi<double> * u2`, then
 * stored to a float before cos/sin.
 */
export function normalFill16Scalar(d: Float32Array, at: number): void {
  for (let j = at; j < at + 8; j++) {
    const u1 = f(1 - d[j]);
    const radius = f(Math.sqrt(f(-2 * glibcLogf(u1))));
    const theta = f(2 * Math.PI * d[j + 8]);
    d[j] = f(radius * glibcCosf(theta)) + 0;
    d[j + 8] = f(radius * glibcSinf(theta)) + 0;
  }
}
