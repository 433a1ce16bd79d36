/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_pndm.py
 * (PNDMSchedulerTest): the full-loop tests — Runge–Kutta warm-up (step_prk
 * over prk_timesteps) then step_plms, which lockstep's step dispatches the
 * same way — with their expected result_sum/result_mean and tolerances.
 */
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../types.ts';
import { PNDMScheduler } from '../pndm.ts';
import { fullLoop, sumAndMeanAbs } from '../testing/diffusers-harness.ts';

const config = (extra: SchedulerConfig = {}): SchedulerConfig => ({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  ...extra,
});

function expectLoop(extra: SchedulerConfig, sum: number, mean: number): void {
  const r = sumAndMeanAbs(fullLoop(new PNDMScheduler(config(extra))));
  expect(Math.abs(r.sum - sum)).toBeLessThan(1e-2);
  expect(Math.abs(r.mean - mean)).toBeLessThan(1e-3);
}

describe('diffusers test_scheduler_pndm.py PNDMSchedulerTest', () => {
  it('test_full_loop_no_noise: sum 198.1318, mean 0.2580', () => expectLoop({}, 198.1318, 0.258));
  it('test_full_loop_with_v_prediction: sum 67.3986, mean 0.0878', () => expectLoop({ prediction_type: 'v_prediction' }, 67.3986, 0.0878));
  it('test_full_loop_with_set_alpha_to_one: sum 230.0399, mean 0.2995', () =>
    expectLoop({ set_alpha_to_one: true, beta_start: 0.01 }, 230.0399, 0.2995));
  it('test_full_loop_with_no_set_alpha_to_one: sum 186.9482, mean 0.2434', () =>
    expectLoop({ set_alpha_to_one: false, beta_start: 0.01 }, 186.9482, 0.2434));
});
