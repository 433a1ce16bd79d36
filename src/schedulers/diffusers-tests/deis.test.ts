/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_deis.py
 * (DEISMultistepSchedulerTest): the full-loop tests with their expected
 * result_sum/result_mean and tolerances.
 */
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../types.ts';
import { DEISMultistepScheduler } from '../deis.ts';
import { DPMSolverMultistepScheduler } from '../dpmpp-2m.ts';
import { DPMSolverSinglestepScheduler } from '../dpm-singlestep.ts';
import { UniPCMultistepScheduler } from '../unipc.ts';
import { fromConfig, fullLoop, fullLoopWithNoise, sumAndMeanAbs } from '../testing/diffusers-harness.ts';

const config = (extra: SchedulerConfig = {}): SchedulerConfig => ({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  solver_order: 2,
  ...extra,
});
const meanOf = (extra: SchedulerConfig = {}) => sumAndMeanAbs(fullLoop(new DEISMultistepScheduler(config(extra)))).mean;

describe('diffusers test_scheduler_deis.py DEISMultistepSchedulerTest', () => {
  it('test_full_loop_no_noise: mean 0.23916', () => {
    expect(Math.abs(meanOf() - 0.23916)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_v_prediction: mean 0.091', () => {
    expect(Math.abs(meanOf({ prediction_type: 'v_prediction' }) - 0.091)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_noise: sum 315.3016, mean 0.41054', () => {
    const { sum, mean } = sumAndMeanAbs(fullLoopWithNoise(new DEISMultistepScheduler(config()), 8));
    expect(Math.abs(sum - 315.3016)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.41054)).toBeLessThan(1e-3);
  });

  it('test_switch: DEIS → singlestep → DPM → UniPC → DEIS from_config, mean 0.23916 both times', () => {
    const first = new DEISMultistepScheduler(config());
    expect(Math.abs(sumAndMeanAbs(fullLoop(first)).mean - 0.23916)).toBeLessThan(1e-3);
    let c = fromConfig(first.config, DPMSolverSinglestepScheduler);
    c = fromConfig(c, DPMSolverMultistepScheduler);
    c = fromConfig(c, UniPCMultistepScheduler);
    new DEISMultistepScheduler(c);
    // diffusers' full_loop builds a fresh scheduler from get_scheduler_config() whatever it is given.
    expect(Math.abs(meanOf() - 0.23916)).toBeLessThan(1e-3);
  });

  it('test_solver_order_and_type: no NaN for orders 1-3, epsilon and sample prediction', () => {
    for (const solver_order of [1, 2, 3]) {
      for (const prediction_type of ['epsilon', 'sample']) {
        const s = fullLoop(new DEISMultistepScheduler(config({ algorithm_type: 'deis', solver_type: 'logrho', solver_order, prediction_type })));
        expect(s.data.some(Number.isNaN)).toBe(false);
      }
    }
  });
});
