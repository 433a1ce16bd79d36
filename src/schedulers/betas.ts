/**
 * Beta schedules and alphas_cumprod exactly as diffusers builds them with
 * torch on the CPU (float32 tensors; torch.linspace and torch.cumprod modelled
 * down to their kernels, so sigmas match diffusers bit for bit).
 */
import { UsageError } from '../errors.ts';

const f = Math.fround;

/** a*b + c with a single rounding to float32, like a compiler-fused FMA in float. */
function fmaF32(a: number, b: number, c: number): number {
  // a*b of two float32 values is exact in float64, so one float32 rounding at the end models the FMA.
  return f(a * b + c);
}

/**
 * torch.linspace(start, end, steps, dtype=float32) on x86-64 (AVX2 kernel):
 * blocks of 8 lanes, each `base + k*step` with the base taken from the start
 * before the halfway point and from the end after it (GCC fuses those
 * scalar multiply-adds), the lanes added unfused. Verified against SD's sigmas
 * and against torch 1.13 on 12 ranges (see betas.test.ts).
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = f(start);
    return out;
  }
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const scalarAt = (i: number) => (i < halfway ? fmaF32(step, i, s) : fmaF32(-step, steps - i - 1, e));
  // The vectorized loop takes two 8-lane vectors per iteration; the tail is scalar.
  let i = 0;
  for (; i + 16 <= steps; i += 16) {
    for (const at of [i, i + 8]) {
      const base = scalarAt(at);
      // Vec256::arange's lanes are base + k*step, multiplied then added (not fused): k*step is inexact for k = 3, 5, 6, 7.
      for (let k = 0; k < 8; k++) out[at + k] = f(base + f(k * step));
    }
  }
  for (; i < steps; i++) out[i] = scalarAt(i);
  return out;
}

/** diffusers' betas_for_alpha_bar with the cosine transform (squaredcos_cap_v2), in float64 then float32. */
export function cosineBetas(numTrainTimesteps: number, maxBeta = 0.999): Float32Array {
  return alphaBarBetas(numTrainTimesteps, (t) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2, maxBeta);
}

/** betas_for_alpha_bar with the "exp" transform (Heun's beta_schedule "exp"). */
export function expBetas(numTrainTimesteps: number, maxBeta = 0.999): Float32Array {
  return alphaBarBetas(numTrainTimesteps, (t) => Math.exp(t * -12.0), maxBeta);
}

function alphaBarBetas(numTrainTimesteps: number, alphaBar: (t: number) => number, maxBeta: number): Float32Array {
  const out = new Float32Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    out[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return out;
}

/** torch.cumprod on CPU: accumulates in double (acc_type<float>), stores float32. */
export function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = acc;
  }
  return out;
}

function oneMinus(values: Float32Array): Float32Array {
  return values.map((v) => f(1 - v));
}

/** diffusers' rescale_zero_terminal_snr (arXiv 2305.08891, Algorithm 1), float32 tensor ops. */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const alphasCumprod = cumprodF32(oneMinus(betas));
  const sqrtBar = alphasCumprod.map((v) => f(Math.sqrt(v)));
  const first = sqrtBar[0];
  const last = sqrtBar[sqrtBar.length - 1];
  const scale = f(first / f(first - last));
  const bar = sqrtBar.map((v) => {
    const shifted = f(f(v - last) * scale);
    return f(shifted * shifted);
  });
  const alphas = bar.map((v, i) => (i === 0 ? v : f(v / bar[i - 1])));
  return oneMinus(alphas);
}

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | 'exp';

export interface BetaConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: number[] | null;
  rescale_betas_zero_snr?: boolean;
}

export function makeBetas(c: BetaConfig): Float32Array {
  let betas: Float32Array;
  if (c.trained_betas !== null) {
    if (c.trained_betas.length !== c.num_train_timesteps) {
      throw new UsageError(
        `scheduler config: trained_betas has ${c.trained_betas.length} values, num_train_timesteps is ${c.num_train_timesteps}`,
      );
    }
    betas = Float32Array.from(c.trained_betas);
  } else if (c.beta_schedule === 'linear') {
    betas = torchLinspaceF32(c.beta_start, c.beta_end, c.num_train_timesteps);
  } else if (c.beta_schedule === 'scaled_linear') {
    betas = torchLinspaceF32(c.beta_start ** 0.5, c.beta_end ** 0.5, c.num_train_timesteps).map((b) => f(b * b));
  } else if (c.beta_schedule === 'exp') {
    betas = expBetas(c.num_train_timesteps);
  } else {
    betas = cosineBetas(c.num_train_timesteps);
  }
  return c.rescale_betas_zero_snr ? rescaleZeroTerminalSnr(betas) : betas;
}

/** alphas_cumprod = cumprod(1 - betas), float32 as torch holds it. */
export function makeAlphasCumprod(c: BetaConfig): Float32Array {
  return cumprodF32(oneMinus(makeBetas(c)));
}
