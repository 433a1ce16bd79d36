/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_lcm.py (LCMSchedulerTest): full_loop
 * with generator torch.manual_seed(0) (noise every step but the last).
 */
import { describe, expect, it } from 'vitest';
import { LCMScheduler } from '../lcm.ts';
import { dummySampleDeter, plainFullLoop, sumMeanAbs } from './fixtures.ts';

const config = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon' };

function fullLoop(steps: number) {
  const s = new LCMScheduler(config);
  s.setTimesteps(steps);
  return sumMeanAbs(plainFullLoop(s, s.timesteps, dummySampleDeter(), 0));
}

describe('diffusers test_scheduler_lcm.py (v0.27.2)', () => {
  it('test_full_loop_onestep', () => {
    const { sum, mean } = fullLoop(1);
    expect(Math.abs(sum - 18.7097)).toBeLessThan(1e-3);
    expect(Math.abs(mean - 0.0244)).toBeLessThan(1e-3);
  });

  it('test_full_loop_multistep', () => {
    const { sum, mean } = fullLoop(10);
    expect(Math.abs(sum - 197.7616)).toBeLessThan(1e-3);
    expect(Math.abs(mean - 0.2575)).toBeLessThan(1e-3);
  });
});
