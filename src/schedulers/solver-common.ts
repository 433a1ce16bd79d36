/**
 * What diffusers' exponential-integrator solvers share (DPM-Solver multistep
 * and singlestep, UniPC, DEIS): the integer timestep spacing, the sigma
 * schedule (interpolated, Karras or Lu), the VP noise level of a sigma, and
 * float32 evaluation of their linear updates in torch's op order.
 */
import type { TimestepSpacing } from './config.ts';
import { readKarrasRange } from './k-common.ts';
import { type Tensor, makeTensor } from '../tensor/tensor.ts';
import { checkSameShape } from './ops.ts';
import { indexForTimestep } from './step-index.ts';
import { f, sqrtF } from './ops.ts';
import { arange, interpOnIndex, linspace, roundHalfEven } from './numpy-like.ts';
import { karrasSigmas, logSigmas, sigmaToT, trainingSigmas } from './sigmas.ts';

/** alpha_t = 1/sqrt(sigma² + 1), sigma_t = sigma·alpha_t, lambda = log α − log σ (float32 0-d tensors). */
export interface NoiseLevel {
  alpha: number;
  sigma: number;
  lambda: number;
}

/** `_sigma_to_alpha_sigma_t` and the log-SNR lambda, as diffusers computes them on 0-d float32 tensors. */
export function noiseLevel(sigma: number): NoiseLevel {
  const alpha = f(1 / sqrtF(f(f(sigma * sigma) + 1)));
  const s = f(sigma * alpha);
  return { alpha, sigma: s, lambda: f(f(Math.log(alpha)) - f(Math.log(s))) };
}

/** One term c·x of an update; `sign` −1 subtracts it. */
export type Term = [coeff: number, values: ArrayLike<number>, sign?: 1 | -1];

/** Σ ±c·x evaluated left to right in float32, as torch evaluates `a*x - b*y + c*z`. */
export function combine(terms: readonly Term[], n: number): Float32Array {
  const out = new Float32Array(n);
  const [[c0, x0], ...rest] = terms;
  for (let k = 0; k < n; k++) {
    let acc = f(c0 * x0[k]);
    for (const [c, x, sign = 1] of rest) acc = sign === 1 ? f(acc + f(c * x[k])) : f(acc - f(c * x[k]));
    out[k] = acc;
  }
  return out;
}

/** T minus the number of training lambdas below `lambdaMinClipped` (torch.searchsorted on the flipped lambdas). */
export function clippedLastTimestep(alphasCumprod: Float32Array, lambdaMinClipped: number): number {
  const clip = f(lambdaMinClipped);
  let below = 0;
  for (const a of alphasCumprod) {
    const lambda = f(f(Math.log(sqrtF(a))) - f(Math.log(sqrtF(f(1 - a)))));
    if (lambda < clip) below++;
  }
  return alphasCumprod.length - below;
}

/** The solvers' int64 timesteps for each spacing (descending), up to `last` (T unless lambda-clipped). */
export function solverTimesteps(spacing: TimestepSpacing, T: number, n: number, stepsOffset: number, last = T): number[] {
  if (spacing === 'linspace') return linspace(0, last - 1, n + 1).map(roundHalfEven).reverse().slice(0, -1);
  if (spacing === 'leading') {
    const ratio = Math.floor(last / (n + 1));
    return Array.from({ length: n }, (_, i) => (n - i) * ratio + stepsOffset);
  }
  return arange(last, 0, -T / n).map((t) => roundHalfEven(t) - 1);
}

export type SigmaSchedule = 'interp' | 'karras' | 'lu';

/**
 * `_convert_to_karras` takes sigma_min / sigma_max from the config when it has
 * them (`hasattr(self.config, ...)`): none of these classes declares them, but
 * from_config keeps the keys of the file (an Euler config's), so they count.
 */
export interface KarrasRange {
  sigmaMin?: number | null;
  sigmaMax?: number | null;
}

/** The hidden sigma_min / sigma_max of a scheduler_config.json, checked (shared with Heun and KDPM2). */
export const karrasRangeOf: (className: string, file: Readonly<Record<string, unknown>>) => KarrasRange = readKarrasRange;

/**
 * The n sigmas (float64, before the class appends its last one and casts to
 * float32) and the timesteps, which Karras and Lu schedules replace by the
 * rounded `_sigma_to_t` of their sigmas.
 */
export function solverSigmas(
  alphasCumprod: Float32Array,
  timesteps: number[],
  n: number,
  schedule: SigmaSchedule,
  karrasRange: KarrasRange = {},
): { sigmas: number[]; timesteps: number[] } {
  const train = trainingSigmas(alphasCumprod);
  if (schedule === 'interp') return { sigmas: interpOnIndex(timesteps, train), timesteps };
  const logS = logSigmas(train);
  const sigmas =
    schedule === 'karras'
      ? karrasSigmas(karrasRange.sigmaMin ?? train[0], karrasRange.sigmaMax ?? train[train.length - 1], n)
      : // _convert_to_lu with rho = 1: log-sigmas spaced evenly between the training ends.
        linspace(0, 1, n).map((r) => Math.exp(logS[logS.length - 1] + r * (logS[0] - logS[logS.length - 1])));
  return { sigmas, timesteps: sigmas.map((s) => roundHalfEven(sigmaToT(s, logS))) };
}

/** ((1 - alphas_cumprod[0]) / alphas_cumprod[0]) ** 0.5: the "sigma_min" final sigma. */
export function sigmaMin(alphasCumprod: Float32Array): number {
  const a0 = alphasCumprod[0];
  return sqrtF(f(f(1 - a0) / a0));
}

/**
 * add_noise of the solvers: α_t·x + σ_t·noise at the sigma of `timestep`'s
 * place in the schedule (the second match when it repeats, as diffusers).
 */
export function addNoiseAtSigma(
  className: string,
  timesteps: readonly number[],
  sigmas: Float32Array,
  original: Tensor<'float32'>,
  noise: Tensor<'float32'>,
  timestep: number,
): Tensor<'float32'> {
  checkSameShape(noise, original, className);
  const { alpha, sigma } = noiseLevel(sigmas[indexForTimestep(timesteps, timestep, className)]);
  const n = noise.data;
  return makeTensor('float32', original.dims, original.data.map((v, k) => f(f(alpha * v) + f(sigma * n[k]))));
}
