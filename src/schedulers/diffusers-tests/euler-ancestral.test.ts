/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_euler_ancestral.py
 * (EulerAncestralDiscreteSchedulerTest): full loops with noise from torch.manual_seed(0).
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../tensor/tensor.ts';
import { EulerAncestralDiscreteScheduler } from '../euler-ancestral.ts';
import { addNoiseBySigma, kFullLoop, sumMeanAbs } from './fixtures.ts';

const config = (extra: Record<string, unknown> = {}) => ({
  num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', ...extra,
});
const STEPS = 10;

describe('diffusers test_scheduler_euler_ancestral.py (v0.27.2)', () => {
  it('test_full_loop_no_noise (and test_full_loop_device: same loop, same expectation)', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new EulerAncestralDiscreteScheduler(config()), STEPS, { seed: 0 }));
    expect(Math.abs(sum - 152.3192)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.1983)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_v_prediction', () => {
    const s = new EulerAncestralDiscreteScheduler(config({ prediction_type: 'v_prediction' }));
    const { sum, mean } = sumMeanAbs(kFullLoop(s, STEPS, { seed: 0 }));
    expect(Math.abs(sum - 108.4439)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.1412)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_noise', () => {
    const s = new EulerAncestralDiscreteScheduler(config());
    const withNoise = { tStart: STEPS - 2, order: 1, addNoise: (x: Tensor<'float32'>, n: Tensor<'float32'>, t: number) => addNoiseBySigma(s, x, n, t) };
    const { sum, mean } = sumMeanAbs(kFullLoop(s, STEPS, { seed: 0, withNoise }));
    expect(Math.abs(sum - 56163.0508)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 73.129)).toBeLessThan(1e-3);
  });
});
