/**
 * `set_timesteps` as the k-diffusion discrete schedulers of diffusers 0.27.2
 * share it (Heun, KDPM2, KDPM2 ancestral, LMS): float32 timesteps for the
 * spacing, sigmas interpolated in float64 on the float32 training sigmas,
 * and optionally Karras sigmas with timesteps mapped back through
 * `_sigma_to_t` (float64 then, as numpy leaves them).
 */
import type { TimestepSpacing } from './config.ts';
import { interpOnIndex, roundHalfEven } from './numpy-like.ts';
import { floatTimesteps, karrasSigmas, logSigmas, sigmaToT, trainingSigmas } from './sigmas.ts';

export interface KScheduleOptions {
  spacing: TimestepSpacing;
  steps: number;
  stepsOffset: number;
  alphasCumprod: Float32Array;
  karras: boolean;
  /** Karras range overrides (null: the schedule's own end sigmas). */
  sigmaMin: number | null;
  sigmaMax: number | null;
  /** KDPM2 rounds the Karras timesteps (`.round()`), Heun and LMS keep them fractional. */
  roundKarrasTimesteps: boolean;
}

export interface KSchedule {
  /** One per step, descending; float32 values, or float64 ones with Karras sigmas. */
  timesteps: number[];
  timestepDtype: 'float32' | 'float64';
  /** One per step, float64 as numpy computed them (callers append 0 and cast to float32). */
  sigmas: number[];
  /** np.log of the float32 training sigmas (float32). */
  logSigmas: Float32Array;
}

export function kSchedule(o: KScheduleOptions): KSchedule {
  const T = o.alphasCumprod.length;
  const train = trainingSigmas(o.alphasCumprod);
  const logS = logSigmas(train);
  const timesteps = floatTimesteps(o.spacing, T, o.steps, o.stepsOffset);
  const sigmas = interpOnIndex(timesteps, train);
  if (!o.karras) return { timesteps, timestepDtype: 'float32', sigmas, logSigmas: logS };
  const karras = karrasSigmas(o.sigmaMin ?? sigmas[sigmas.length - 1], o.sigmaMax ?? sigmas[0], o.steps);
  const mapped = karras.map((s) => sigmaToT(s, logS));
  return {
    timesteps: o.roundKarrasTimesteps ? mapped.map(roundHalfEven) : mapped,
    timestepDtype: 'float64',
    sigmas: karras,
    logSigmas: logS,
  };
}

/** x[:1] ++ each of x[1:] twice ++ x[-1:] — how the second-order schedulers lay out per-call sigmas. */
export function interleaveSigmas(x: ArrayLike<number>): Float32Array {
  const out: number[] = [x[0]];
  for (let i = 1; i < x.length; i++) out.push(x[i], x[i]);
  out.push(x[x.length - 1]);
  return Float32Array.from(out);
}
