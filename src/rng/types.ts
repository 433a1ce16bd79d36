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
  /**
   * Leaves the stream exactly where `randn(dims)` would, without computing the values: for draws that
   * diffusers makes and never uses (Euler's per-step noise with s_churn = 0).
   */
  skipRandn(dims: readonly number[]): void;
}
