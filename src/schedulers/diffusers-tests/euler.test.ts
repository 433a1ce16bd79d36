/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_euler.py (EulerDiscreteSchedulerTest):
 * full loops with generator torch.manual_seed(0) (Euler draws and discards a noise tensor every step).
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../tensor/tensor.ts';
import { EulerDiscreteScheduler } from '../euler.ts';
import { addNoiseBySigma, kFullLoop, sumMeanAbs } from './fixtures.ts';

const config = (extra: Record<string, unknown> = {}) => ({
  num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', ...extra,
});
const STEPS = 10;

describe('diffusers test_scheduler_euler.py (v0.27.2)', () => {
  it('test_full_loop_no_noise (and test_full_loop_device: same loop, same expectation)', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new EulerDiscreteScheduler(config()), STEPS, { seed: 0 }));
    expect(Math.abs(sum - 10.0807)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.0131)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_v_prediction', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new EulerDiscreteScheduler(config({ prediction_type: 'v_prediction' })), STEPS, { seed: 0 }));
    expect(Math.abs(sum - 0.0002)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 2.2676e-6)).toBeLessThan(1e-3);
  });

  it('test_full_loop_device_karras_sigmas', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new EulerDiscreteScheduler(config({ use_karras_sigmas: true })), STEPS, { seed: 0 }));
    expect(Math.abs(sum - 124.52299499511719)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.16213932633399963)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_noise', () => {
    const s = new EulerDiscreteScheduler(config());
    const withNoise = { tStart: STEPS - 2, order: 1, addNoise: (x: Tensor<'float32'>, n: Tensor<'float32'>, t: number) => addNoiseBySigma(s, x, n, t) };
    const { sum, mean } = sumMeanAbs(kFullLoop(s, STEPS, { seed: 0, withNoise }));
    expect(Math.abs(sum - 57062.9297)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 74.3007)).toBeLessThan(1e-3);
  });
});
