/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_ddim.py
 * (DDIMSchedulerTest): the full-loop tests (eta 0) with their expected
 * result_sum/result_mean and tolerances.
 */
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../types.ts';
import { DDIMScheduler } from '../ddim.ts';
import { fullLoop, fullLoopWithNoise, sumAndMeanAbs } from '../testing/diffusers-harness.ts';

const config = (extra: SchedulerConfig = {}): SchedulerConfig => ({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  clip_sample: true,
  ...extra,
});

function expectLoop(extra: SchedulerConfig, sum: number, mean: number): void {
  const r = sumAndMeanAbs(fullLoop(new DDIMScheduler(config(extra))));
  expect(Math.abs(r.sum - sum)).toBeLessThan(1e-2);
  expect(Math.abs(r.mean - mean)).toBeLessThan(1e-3);
}

describe('diffusers test_scheduler_ddim.py DDIMSchedulerTest', () => {
  it('test_full_loop_no_noise: sum 172.0067, mean 0.223967', () => expectLoop({}, 172.0067, 0.223967));
  it('test_full_loop_with_v_prediction: sum 52.5302, mean 0.0684', () => expectLoop({ prediction_type: 'v_prediction' }, 52.5302, 0.0684));
  it('test_full_loop_with_set_alpha_to_one: sum 149.8295, mean 0.1951', () =>
    expectLoop({ set_alpha_to_one: true, beta_start: 0.01 }, 149.8295, 0.1951));
  it('test_full_loop_with_no_set_alpha_to_one: sum 149.0784, mean 0.1941', () =>
    expectLoop({ set_alpha_to_one: false, beta_start: 0.01 }, 149.0784, 0.1941));

  it('test_full_loop_with_noise: sum 354.5418, mean 0.4616', () => {
    const r = sumAndMeanAbs(fullLoopWithNoise(new DDIMScheduler(config()), 8));
    expect(Math.abs(r.sum - 354.5418)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.4616)).toBeLessThan(1e-3);
  });
});
