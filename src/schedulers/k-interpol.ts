/**
 * The midpoint sigmas of DPM2 and DPM2 ancestral as torch computes them:
 * `sigmas.log().lerp(other.log(), 0.5).exp()` on float32 tensors, and their
 * timesteps from `_sigma_to_t` called with torch tensors, where numpy's
 * float32 log meets torch's float32 arithmetic (so t is float32 there, unlike
 * the numpy-only float64 `_sigma_to_t` of the Karras timesteps).
 */
import { f } from './ops.ts';
import { sleefExpf, sleefLogf } from './torch-math.ts';

/**
 * exp(lerp(log a, log b, 0.5)); lerp with weight 0.5 is `end - (end - self)·0.5`
 * in both of torch's kernels; log and exp are SLEEF's, as torch's float32 kernels.
 */
export function torchLogLerpExp(a: number, b: number): number {
  const la = sleefLogf(a);
  const lb = sleefLogf(b);
  return sleefExpf(f(lb - f(f(lb - la) * 0.5)));
}

/**
 * `_sigma_to_t(sigma, log_sigmas)` with sigma a 0-d float32 tensor: np.maximum(tensor, 1e-10) promotes
 * to float64, so log_sigma is a float64 log; it meets the float32 log_sigmas tensor as a 0-d tensor,
 * so every later op is float32. NaN in → NaN out.
 */
export function torchSigmaToT(sigma: number, logS: Float32Array): number {
  if (Number.isNaN(sigma)) return NaN;
  const logSigma = f(Math.log(Math.max(sigma, 1e-10)));
  let low = 0;
  for (let i = 0; i < logS.length; i++) if (f(logSigma - logS[i]) >= 0) low = i;
  low = Math.min(low, logS.length - 2);
  const high = low + 1;
  let w = f(f(logS[low] - logSigma) / f(logS[low] - logS[high]));
  w = Math.min(Math.max(w, 0), 1);
  return f(f(f(1 - w) * low) + f(w * high));
}
