/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_tcd.py (TCDSchedulerTest): full_loop
 * with eta = 0.0 (the tests' gamma), generator torch.manual_seed(0).
 */
import { describe, expect, it } from 'vitest';
import { TCDScheduler } from '../tcd.ts';
import { dummySampleDeter, plainFullLoop, sumMeanAbs } from './fixtures.ts';

const config = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon' };

function fullLoop(steps: number) {
  const s = new TCDScheduler(config, { eta: 0 });
  s.setTimesteps(steps);
  return sumMeanAbs(plainFullLoop(s, s.timesteps, dummySampleDeter(), 0));
}

describe('diffusers test_scheduler_tcd.py (v0.27.2)', () => {
  it('test_full_loop_onestep_deter', () => {
    const { sum, mean } = fullLoop(1);
    expect(Math.abs(sum - 29.8715)).toBeLessThan(1e-3);
    expect(Math.abs(mean - 0.0389)).toBeLessThan(1e-3);
  });

  it('test_full_loop_multistep_deter', () => {
    const { sum, mean } = fullLoop(10);
    expect(Math.abs(sum - 181.204)).toBeLessThan(1e-3);
    expect(Math.abs(mean - 0.2359)).toBeLessThan(1e-3);
  });
});
