/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_ddpm.py (DDPMSchedulerTest): the
 * full loops over all 1000 training timesteps (no set_timesteps), noise from torch.manual_seed(0).
 */
import { describe, expect, it } from 'vitest';
import { DDPMScheduler } from '../ddpm.ts';
import { dummyNoiseDeter, dummySampleDeter, plainFullLoop, sumMeanAbs } from './fixtures.ts';

const config = (extra: Record<string, unknown> = {}) => ({
  num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', variance_type: 'fixed_small', clip_sample: true, ...extra,
});

describe('diffusers test_scheduler_ddpm.py (v0.27.2)', () => {
  it('test_full_loop_no_noise', () => {
    const s = new DDPMScheduler(config());
    const { sum, mean } = sumMeanAbs(plainFullLoop(s, s.timesteps, dummySampleDeter(), 0));
    expect(Math.abs(sum - 258.9606)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.3372)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_v_prediction', () => {
    const s = new DDPMScheduler(config({ prediction_type: 'v_prediction' }));
    const { sum, mean } = sumMeanAbs(plainFullLoop(s, s.timesteps, dummySampleDeter(), 0));
    expect(Math.abs(sum - 202.0296)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.2631)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_noise', () => {
    const s = new DDPMScheduler(config());
    const timesteps = s.timesteps.slice(1000 - 2);
    const sample = s.addNoise(dummySampleDeter(), dummyNoiseDeter(), timesteps[0]);
    const { sum, mean } = sumMeanAbs(plainFullLoop(s, timesteps, sample, 0));
    expect(Math.abs(sum - 387.9466)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.5051)).toBeLessThan(1e-3);
  });

  it('test_variance_type: "learned" / "learned_range" / "fixed_large_log" are refused by name', () => {
    for (const v of ['learned', 'learned_range', 'fixed_large_log']) {
      expect(() => new DDPMScheduler(config({ variance_type: v }))).toThrow(/variance_type/);
    }
  });
});
