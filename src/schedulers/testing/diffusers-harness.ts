/**
 * The fixtures of diffusers 0.27.2's scheduler tests
 * (tests/schedulers/test_schedulers.py, SchedulerCommonTest), so their
 * full-loop tests can be ported with their expected result_sum/result_mean:
 * the deterministic sample and noise, the dummy model `sample * t / (t + 1)`,
 * and the loops of `full_loop` and `test_full_loop_with_noise`.
 */
import { UsageError } from '../../errors.ts';
import type { NoiseGenerator } from '../../rng/types.ts';
import { type Tensor, float32 } from '../../tensor/tensor.ts';
import type { Scheduler, SchedulerConfig } from '../types.ts';

const f = Math.fround;

/**
 * dummy_sample_deter: arange(n).reshape(C, H, W, B) / n, permuted to
 * (B, C, H, W) — or (B, C, W) for the 1D tests. `flip` gives dummy_noise_deter.
 */
export function deterministicSample(dims: readonly number[] = [4, 3, 8, 8], flip = false): Tensor<'float32'> {
  const [batch, ...inner] = dims;
  const innerSize = inner.reduce((a, b) => a * b, 1);
  const n = batch * innerSize;
  const data = new Float32Array(n);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < innerSize; k++) {
      // Element (b, k) of the permuted tensor is element (k, b) of the (…, B) layout.
      const flat = k * batch + b;
      data[b * innerSize + k] = f((flip ? n - 1 - flat : flat) / n);
    }
  }
  return float32(dims, data);
}

/** SchedulerCommonTest.dummy_model: sample * t / (t + 1), t cast to float32. */
export function dummyModel(sample: Tensor<'float32'>, t: number): Tensor<'float32'> {
  const tf = f(t);
  const denom = f(tf + 1);
  return float32(sample.dims, sample.data.map((v) => f(f(v * tf) / denom)));
}

/** full_loop: set_timesteps(steps), then step(model(sample, t), t, sample) over every timestep. */
export function fullLoop(
  scheduler: Scheduler,
  options: { steps?: number; sample?: Tensor<'float32'>; generator?: NoiseGenerator; from?: number } = {},
): Tensor<'float32'> {
  scheduler.setTimesteps(options.steps ?? 10);
  let sample = options.sample ?? deterministicSample();
  for (const t of scheduler.timesteps.slice(options.from ?? 0)) {
    sample = scheduler.step(dummyModel(sample, t), t, sample, options.generator);
  }
  return sample;
}

/** test_full_loop_with_noise: add dummy_noise_deter at timesteps[tStart·order], then run the rest of the schedule. */
export function fullLoopWithNoise(scheduler: Scheduler, tStart: number, options: { steps?: number; dims?: number[]; order?: number } = {}): Tensor<'float32'> {
  if (!scheduler.addNoise) throw new UsageError(`${scheduler.name} has no addNoise`);
  scheduler.setTimesteps(options.steps ?? 10);
  const dims = options.dims ?? [4, 3, 8, 8];
  const timesteps = scheduler.timesteps.slice(tStart * (options.order ?? 1));
  let sample = scheduler.addNoise(deterministicSample(dims), deterministicSample(dims, true), timesteps[0]);
  for (const t of timesteps) sample = scheduler.step(dummyModel(sample, t), t, sample);
  return sample;
}

/** torch.sum(torch.abs(sample)) and torch.mean(torch.abs(sample)) (accumulated in float64). */
export function sumAndMeanAbs(sample: Tensor<'float32'>): { sum: number; mean: number } {
  let sum = 0;
  for (const v of sample.data) sum += Math.abs(v);
  return { sum, mean: sum / sample.data.length };
}

/**
 * `Class.from_config(previous.config)` as test_switch chains it: diffusers'
 * config keeps the keys the class does not take (final_sigmas_type rides
 * through UniPC and DEIS), so the next class sees them; the class's own keys
 * take the values it registered.
 */
export function fromConfig(previous: Readonly<SchedulerConfig>, cls: new (config: SchedulerConfig) => Scheduler): SchedulerConfig {
  return { ...previous, ...new cls(previous).config };
}
