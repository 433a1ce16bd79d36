/**
 * Sigma schedules of the k-diffusion style schedulers (Euler, Euler
 * ancestral, DPM-Solver): training sigmas as float32 torch ops, the numpy
 * interpolation and Karras conversion in float64, and `_sigma_to_t` with
 * numpy 1.24's value-based casting (float32 arrays keep float32 when a
 * float64 scalar meets them).
 */
import type { TimestepSpacing } from './config.ts';
import { f, sqrtF } from './ops.ts';
import { leadingTimesteps, linspaceTimesteps, trailingTimesteps } from './spacing.ts';
import { linspace } from './numpy-like.ts';
import { numpyLogF32 } from './numpy-log.ts';

/** ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5, float32, in training order (ascending). */
export function trainingSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => sqrtF(f(f(1 - a) / a)));
}

/** The Euler family's float32 timesteps for each spacing (descending). */
export function floatTimesteps(spacing: TimestepSpacing, T: number, n: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') return linspaceTimesteps(T, n).map(f);
  if (spacing === 'leading') return leadingTimesteps(T, n, 0).map((t) => f(f(t) + stepsOffset));
  // diffusers casts to float32 before subtracting 1; on these integers that changes nothing.
  return trailingTimesteps(T, n).map(f);
}

/** Karras et al. (2022) sigmas, rho = 7, float64 like diffusers' numpy code. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  const rho = 7.0;
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return linspace(0, 1, n).map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
}

/** float32 log of the training sigmas: np.log on a float32 array, numpy's own SIMD log (not a rounded Math.log). */
export function logSigmas(sigmas: Float32Array): Float32Array {
  return sigmas.map(numpyLogF32);
}

/** diffusers' `_sigma_to_t`: the fractional training timestep whose sigma is `sigma` (log-linear). */
export function sigmaToT(sigma: number, logS: Float32Array): number {
  const logSigma = f(Math.log(Math.max(sigma, 1e-10)));
  // Index of the last training log-sigma at or below log_sigma (0 when none), capped so high = low + 1 exists.
  let low = 0;
  for (let i = 0; i < logS.length; i++) if (f(logSigma - logS[i]) >= 0) low = i;
  low = Math.min(low, logS.length - 2);
  const high = low + 1;
  let w = f(f(logS[low] - logSigma) / f(logS[low] - logS[high]));
  w = Math.min(Math.max(w, 0), 1);
  return f(1 - w) * low + w * high;
}
