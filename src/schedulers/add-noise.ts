/**
 * `add_noise` of diffusers' schedulers (image-to-image noises the encoded
 * image to the first timestep it runs), float32 as torch computes it.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { checkSameShape, f, mapElements, sqrtF } from './ops.ts';

/** DDIM, PNDM, LCM: sqrt(ᾱ_t)·x + sqrt(1 − ᾱ_t)·noise (torch's `** 0.5` on a float32 tensor is its sqrt). */
export function addNoiseByAlpha(alphasCumprod: Float32Array, original: Tensor<'float32'>, noise: Tensor<'float32'>, timestep: number, className: string): Tensor<'float32'> {
  checkSameShape(noise, original, `${className}.add_noise`);
  const a = alphasCumprod[timestep];
  const sa = sqrtF(a);
  const sb = sqrtF(f(1 - a));
  return mapElements(original, (i) => f(f(sa * original.data[i]) + f(sb * noise.data[i])));
}

/** Euler family: x + noise·σ, σ at the schedule index the step would use (begin index when set). */
export function addNoiseBySigma(sigma: number, original: Tensor<'float32'>, noise: Tensor<'float32'>, className: string): Tensor<'float32'> {
  checkSameShape(noise, original, `${className}.add_noise`);
  return mapElements(original, (i) => f(original.data[i] + f(noise.data[i] * sigma)));
}
