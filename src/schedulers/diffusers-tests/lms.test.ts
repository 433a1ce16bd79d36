/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_lms.py (LMSDiscreteSchedulerTest),
 * full-loop tests with their expected values (torch_device "cpu").
 */
import { describe, expect, it } from 'vitest';
import { LMSDiscreteScheduler } from '../lms.ts';
import { kFullLoop, sumMeanAbs } from './fixtures.ts';

const config = (extra: Record<string, unknown> = {}) => ({
  num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', ...extra,
});
const STEPS = 10;

describe('diffusers test_scheduler_lms.py (v0.27.2)', () => {
  it('test_full_loop_no_noise (and test_full_loop_device: same loop, same expectation)', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new LMSDiscreteScheduler(config()), STEPS));
    expect(Math.abs(sum - 1006.388)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 1.31)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_v_prediction', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new LMSDiscreteScheduler(config({ prediction_type: 'v_prediction' })), STEPS));
    expect(Math.abs(sum - 0.0017)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 2.2676e-6)).toBeLessThan(1e-3);
  });

  it('test_full_loop_device_karras_sigmas', () => {
    const { sum, mean } = sumMeanAbs(kFullLoop(new LMSDiscreteScheduler(config({ use_karras_sigmas: true })), STEPS));
    expect(Math.abs(sum - 3812.9927)).toBeLessThan(2e-2);
    expect(Math.abs(mean - 4.9648)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_noise', () => {
    const s = new LMSDiscreteScheduler(config());
    const { sum, mean } = sumMeanAbs(kFullLoop(s, STEPS, { withNoise: { tStart: STEPS - 2, order: 1, addNoise: (x, n, t) => s.addNoise(x, n, t) } }));
    expect(Math.abs(sum - 27663.6895)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 36.0204)).toBeLessThan(1e-3);
  });
});
