/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_heun.py (HeunDiscreteSchedulerTest),
 * full-loop tests with their expected result_sum / result_mean and tolerances (torch_device "cpu").
 */
import { describe, expect, it } from 'vitest';
import { HeunDiscreteScheduler } from '../heun.ts';
import { addNoiseBySigma, kFullLoop, sumMeanAbs } from './fixtures.ts';

const config = (extra: Record<string, unknown> = {}) => ({
  num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', ...extra,
});
const STEPS = 10;

describe('diffusers test_scheduler_heun.py (v0.27.2)', () => {
  it('test_full_loop_no_noise (and test_full_loop_device: same loop, same expectation)', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new HeunDiscreteScheduler(config()), STEPS));
    expect(Math.abs(sum - 0.1233)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.0002)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_v_prediction', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new HeunDiscreteScheduler(config({ prediction_type: 'v_prediction' })), STEPS));
    expect(Math.abs(sum - 4.6934e-7)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 6.1112e-10)).toBeLessThan(1e-3);
  });

  it('test_full_loop_device_karras_sigmas', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new HeunDiscreteScheduler(config({ use_karras_sigmas: true })), STEPS));
    expect(Math.abs(sum - 0.00015)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 1.9869554535034695e-7)).toBeLessThan(1e-2);
  });

  it('test_full_loop_with_noise', () => {
    const s = new HeunDiscreteScheduler(config());
    const { sum, mean } = sumMeanAbs(kFullLoop(s, STEPS, { withNoise: { tStart: STEPS - 2, order: 2, addNoise: (x, n, t) => addNoiseBySigma(s, x, n, t) } }));
    expect(Math.abs(sum - 75074.8906)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 97.7538)).toBeLessThan(1e-3);
  });
});
