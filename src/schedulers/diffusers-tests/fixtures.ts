/**
 * The fixtures of diffusers v0.27.2 tests/schedulers/test_schedulers.py
 * (SchedulerCommonTest), for porting its full-loop scheduler tests:
 * dummy_sample_deter, dummy_noise_deter, dummy_model, and the loops the
 * per-class tests run, with torch's float32 rounding at every op.
 */
import { type Tensor, float32 } from '../../tensor/tensor.ts';
import { TorchCpuGenerator } from '../../rng/index.ts';
import type { NoiseGenerator } from '../../rng/types.ts';
import type { Scheduler } from '../types.ts';
import { indexForTimestep } from '../step-index.ts';

const f = Math.fround;
const DIMS = [4, 3, 8, 8];
const N = 4 * 3 * 8 * 8;

/** arange(N) (flipped for the noise) reshaped (3, 8, 8, 4), / N, permuted to (4, 3, 8, 8). */
function deter(flip: boolean): Tensor<'float32'> {
  const out = new Float32Array(N);
  for (let b = 0; b < 4; b++) {
    for (let c = 0; c < 3; c++) {
      for (let h = 0; h < 8; h++) {
        for (let w = 0; w < 8; w++) {
          const src = ((c * 8 + h) * 8 + w) * 4 + b;
          out[((b * 3 + c) * 8 + h) * 8 + w] = f((flip ? N - 1 - src : src) / N);
        }
      }
    }
  }
  return float32(DIMS, out);
}

export const dummySampleDeter = (): Tensor<'float32'> => deter(false);
export const dummyNoiseDeter = (): Tensor<'float32'> => deter(true);

/** sample * t / (t + 1), t cast to the sample's float32 first. */
export function dummyModel(sample: Tensor<'float32'>, t: number): Tensor<'float32'> {
  const tf = f(t);
  const denom = f(tf + 1);
  return float32(sample.dims, sample.data.map((v) => f(f(v * tf) / denom)));
}

export function scaleTensor(t: Tensor<'float32'>, factor: number): Tensor<'float32'> {
  const k = f(factor);
  return float32(t.dims, t.data.map((v) => f(v * k)));
}

/** torch.sum(torch.abs(x)) and torch.mean(...) (summed in float64 here; the tests' tolerances are far wider). */
export function sumMeanAbs(t: Tensor<'float32'>): { sum: number; mean: number } {
  let s = 0;
  for (const v of t.data) s += Math.abs(v);
  return { sum: s, mean: s / t.data.length };
}

/** add_noise of the sigma schedulers (Euler family, Heun, KDPM2, LMS): x + noise * sigmas[index_for_timestep(t)]. */
export function addNoiseBySigma(s: Scheduler & { sigmas: Float32Array }, x: Tensor<'float32'>, noise: Tensor<'float32'>, t: number): Tensor<'float32'> {
  const sigma = s.sigmas[indexForTimestep(s.timesteps, t, 'add_noise')];
  return float32(x.dims, x.data.map((v, i) => f(v + f(noise.data[i] * sigma))));
}

export interface LoopOptions {
  /** torch.manual_seed(seed) as the generator passed to step (classes whose step takes one). */
  seed?: number;
  /** The with_noise variants: start at timesteps[tStart * order] after add_noise. */
  withNoise?: { tStart: number; order: number; addNoise: (x: Tensor<'float32'>, noise: Tensor<'float32'>, t: number) => Tensor<'float32'> };
}

/**
 * The sigma-scheduler full loop of the k-diffusion tests: sample = dummy_sample_deter * init_noise_sigma;
 * per timestep `sample = scale_model_input(sample, t)`, then step on the *scaled* sample, as the tests do.
 */
export function kFullLoop(s: Scheduler, steps: number, o: LoopOptions = {}): Tensor<'float32'> {
  s.setTimesteps(steps);
  const generator: NoiseGenerator | undefined = o.seed === undefined ? undefined : new TorchCpuGenerator(o.seed);
  let sample = scaleTensor(dummySampleDeter(), s.initNoiseSigma);
  let timesteps = [...s.timesteps];
  if (o.withNoise) {
    timesteps = timesteps.slice(o.withNoise.tStart * o.withNoise.order);
    sample = o.withNoise.addNoise(sample, dummyNoiseDeter(), timesteps[0]);
  }
  for (const t of timesteps) {
    sample = s.scaleModelInput(sample, t);
    sample = s.step(dummyModel(sample, t), t, sample, generator);
  }
  return sample;
}

/** The loop of the DDPM / LCM / TCD tests: no input scaling, the model on the sample itself. */
export function plainFullLoop(s: Scheduler, timesteps: readonly number[], sample: Tensor<'float32'>, seed: number): Tensor<'float32'> {
  const generator = new TorchCpuGenerator(seed);
  for (const t of timesteps) sample = s.step(dummyModel(sample, t), t, sample, generator);
  return sample;
}
