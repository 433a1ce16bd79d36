/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_dpm_single.py
 * (DPMSolverSinglestepSchedulerTest): the full-loop tests with their expected
 * result_sum/result_mean and tolerances.
 */
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../types.ts';
import { DPMSolverSinglestepScheduler } from '../dpm-singlestep.ts';
import { DPMSolverMultistepScheduler } from '../dpmpp-2m.ts';
import { DEISMultistepScheduler } from '../deis.ts';
import { UniPCMultistepScheduler } from '../unipc.ts';
import { fromConfig, fullLoop, fullLoopWithNoise, sumAndMeanAbs } from '../testing/diffusers-harness.ts';

const config = (extra: SchedulerConfig = {}): SchedulerConfig => ({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lambda_min_clipped: -Infinity,
  variance_type: null,
  final_sigmas_type: 'sigma_min',
  ...extra,
});
const meanOf = (extra: SchedulerConfig = {}) => sumAndMeanAbs(fullLoop(new DPMSolverSinglestepScheduler(config(extra)))).mean;

describe('diffusers test_scheduler_dpm_single.py DPMSolverSinglestepSchedulerTest', () => {
  it('test_full_loop_no_noise: mean 0.2791', () => {
    expect(Math.abs(meanOf() - 0.2791)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_karras: mean 0.2248', () => {
    expect(Math.abs(meanOf({ use_karras_sigmas: true }) - 0.2248)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_v_prediction: mean 0.1453', () => {
    expect(Math.abs(meanOf({ prediction_type: 'v_prediction' }) - 0.1453)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_karras_and_v_prediction: mean 0.0649', () => {
    expect(Math.abs(meanOf({ prediction_type: 'v_prediction', use_karras_sigmas: true }) - 0.0649)).toBeLessThan(1e-3);
  });

  it('test_full_loop_with_noise: sum 269.2187, mean 0.3505', () => {
    const { sum, mean } = sumAndMeanAbs(fullLoopWithNoise(new DPMSolverSinglestepScheduler(config()), 5));
    expect(Math.abs(sum - 269.2187)).toBeLessThan(1e-2);
    expect(Math.abs(mean - 0.3505)).toBeLessThan(1e-3);
  });

  it('test_full_uneven_loop: 50 steps started at the 4th timestep, mean 0.2574', () => {
    const s = new DPMSolverSinglestepScheduler(config());
    const { mean } = sumAndMeanAbs(fullLoop(s, { steps: 50, from: 3 }));
    expect(Math.abs(mean - 0.2574)).toBeLessThan(1e-3);
  });

  it('test_switch: singlestep → DEIS → DPM → UniPC → singlestep from_config, mean 0.2791 both times', () => {
    const first = new DPMSolverSinglestepScheduler(config());
    expect(Math.abs(sumAndMeanAbs(fullLoop(first)).mean - 0.2791)).toBeLessThan(1e-3);
    let c = fromConfig(first.config, DEISMultistepScheduler);
    c = fromConfig(c, DPMSolverMultistepScheduler);
    c = fromConfig(c, UniPCMultistepScheduler);
    new DPMSolverSinglestepScheduler(c);
    // diffusers' full_loop builds a fresh scheduler from get_scheduler_config() whatever it is given.
    expect(Math.abs(meanOf() - 0.2791)).toBeLessThan(1e-3);
  });

  it('test_solver_order_and_type: no NaN for dpmsolver/dpmsolver++, midpoint/heun, orders 1-3, epsilon and sample', () => {
    for (const algorithm_type of ['dpmsolver', 'dpmsolver++']) {
      for (const solver_type of ['midpoint', 'heun']) {
        for (const solver_order of [1, 2, 3]) {
          for (const prediction_type of ['epsilon', 'sample']) {
            const s = fullLoop(new DPMSolverSinglestepScheduler(config({ algorithm_type, solver_type, solver_order, prediction_type })));
            expect(s.data.some(Number.isNaN)).toBe(false);
          }
        }
      }
    }
  });
});
