/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_kdpm2_ancestral.py
 * (KDPM2AncestralDiscreteSchedulerTest): full loops with noise from torch.manual_seed(0), which
 * lockstep's torch CPU generator reproduces bit for bit.
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../tensor/tensor.ts';
import { KDPM2AncestralDiscreteScheduler } from '../kdpm2-ancestral.ts';
import { addNoiseBySigma, kFullLoop, sumMeanAbs } from './fixtures.ts';

const config = (extra: Record<string, unknown> = {}) => ({
  num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', ...extra,
});
const STEPS = 10;

describe('diffusers test_scheduler_kdpm2_ancestral.py (v0.27.2)', () => {
  it('test_full_loop_no_noise', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new KDPM2AncestralDiscreteScheduler(config()), STEPS, { seed: 0 }));
    expect(Math.abs(sum - 13849.3877)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 18.0331)).toBeLessThan(5e-3);
  });

  it('test_full_loop_with_v_prediction', () => {
    const s = new KDPM2AncestralDiscreteScheduler(config({ prediction_type: 'v_prediction' }));
    const { sum, mean } = sumMeanAbs(kFullLoop(s, STEPS, { seed: 0 }));
    expect(Math.abs(sum - 328.997)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.4284)).toBeLessThan(1e-3);
  });

  it('test_full_loop_device', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new KDPM2AncestralDiscreteScheduler(config()), STEPS, { seed: 0 }));
    expect(Math.abs(sum - 13849.3818)).toBeLessThan(1e-1);
    expect(Math.abs(mean - 18.0331)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_noise', () => {
    const s = new KDPM2AncestralDiscreteScheduler(config());
    const withNoise = { tStart: STEPS - 2, order: 2, addNoise: (x: Tensor<'float32'>, n: Tensor<'float32'>, t: number) => addNoiseBySigma(s, x, n, t) };
    const { sum, mean } = sumMeanAbs(kFullLoop(s, STEPS, { seed: 0, withNoise }));
    expect(Math.abs(sum - 93087.0312)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 121.2071)).toBeLessThan(5e-3);
  });
});
