import type { Tensor } from '../tensor/tensor.ts';

/** Random generators lockstep reproduces bit for bit (names as on the CLI and in trace manifests). */
export type NoiseKind = 'torch-cpu' | 'numpy-legacy';

/**
 * A seeded generator with torch semantics: successive calls continue one
 * stream, so the per-step noise of Euler ancestral and LCM comes from the same
 * generator that drew the initial latents, as in diffusers.
 */
export interface NoiseGenerator {
  readonly kind: NoiseKind;
  /** Standard normal float32 samples, C order. */
  randn(dims: readonly number[]): Tensor<'float32'>;
}
