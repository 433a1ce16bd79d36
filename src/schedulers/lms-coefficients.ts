/**
 * LMSDiscreteScheduler.get_lms_coefficient of diffusers 0.27.2:
 * quad(lms_derivative, sigmas[t], sigmas[t + 1], epsrel=1e-4), the integrand
 * the Lagrange basis polynomial of `current_order` over sigmas[t − k],
 * k < order. diffusers evaluates it on 0-d float32 tensors: tau (a Python
 * float from quad) is rounded to float32 and every factor is float32 — so
 * the integrand is a float32 function and is reproduced as one here.
 */
import { quadFirstRule } from './quadpack.ts';

const f = Math.fround;

export function lmsIntegrand(sigmas: Float32Array, order: number, t: number, currentOrder: number): (tau: number) => number {
  return (tau: number) => {
    const tau32 = f(tau);
    let prod = 1.0;
    for (let k = 0; k < order; k++) {
      if (k === currentOrder) continue;
      prod = f(prod * f(f(tau32 - sigmas[t - k]) / f(sigmas[t - currentOrder] - sigmas[t - k])));
    }
    return prod;
  };
}

export function lmsCoefficient(sigmas: Float32Array, order: number, t: number, currentOrder: number): number {
  return quadFirstRule(lmsIntegrand(sigmas, order, t, currentOrder), sigmas[t], sigmas[t + 1], 1e-4);
}
