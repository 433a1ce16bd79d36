/**
 * Ported from diffusers v0.27.2 tests/schedulers/test_scheduler_unipc.py
 * (UniPCMultistepSchedulerTest and UniPCMultistepScheduler1DTest): the
 * full-loop tests with their expected result_sum/result_mean and tolerances.
 */
import { describe, expect, it } from 'vitest';
import type { SchedulerConfig } from '../types.ts';
import { UniPCMultistepScheduler } from '../unipc.ts';
import { DPMSolverMultistepScheduler } from '../dpmpp-2m.ts';
import { DPMSolverSinglestepScheduler } from '../dpm-singlestep.ts';
import { DEISMultistepScheduler } from '../deis.ts';
import { deterministicSample, fromConfig, fullLoop, fullLoopWithNoise, sumAndMeanAbs } from '../testing/diffusers-harness.ts';

const config = (extra: SchedulerConfig = {}): SchedulerConfig => ({
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  solver_order: 2,
  solver_type: 'bh2',
  ...extra,
});

interface Expected {
  noNoise: number;
  karras: number;
  vPrediction: number;
  karrasV: number;
  withNoise: { sum: number; mean: number };
}

/** The same tests run on 4-D samples (4×3×8×8) and, in the 1D class, on 3-D ones (4×3×8). */
function portedSuite(name: string, dims: number[], expected: Expected): void {
  const sample = () => deterministicSample(dims);
  const meanOf = (extra: SchedulerConfig = {}) => sumAndMeanAbs(fullLoop(new UniPCMultistepScheduler(config(extra)), { sample: sample() })).mean;

  describe(`diffusers test_scheduler_unipc.py ${name}`, () => {
    it(`test_full_loop_no_noise: mean ${expected.noNoise}`, () => {
      expect(Math.abs(meanOf() - expected.noNoise)).toBeLessThan(1e-3);
    });

    it(`test_full_loop_with_karras: mean ${expected.karras}`, () => {
      expect(Math.abs(meanOf({ use_karras_sigmas: true }) - expected.karras)).toBeLessThan(1e-3);
    });

    it(`test_full_loop_with_v_prediction: mean ${expected.vPrediction}`, () => {
      expect(Math.abs(meanOf({ prediction_type: 'v_prediction' }) - expected.vPrediction)).toBeLessThan(1e-3);
    });

    it(`test_full_loop_with_karras_and_v_prediction: mean ${expected.karrasV}`, () => {
      expect(Math.abs(meanOf({ prediction_type: 'v_prediction', use_karras_sigmas: true }) - expected.karrasV)).toBeLessThan(1e-3);
    });

    it(`test_full_loop_with_noise: sum ${expected.withNoise.sum}, mean ${expected.withNoise.mean}`, () => {
      const { sum, mean } = sumAndMeanAbs(fullLoopWithNoise(new UniPCMultistepScheduler(config()), 8, { dims }));
      expect(Math.abs(sum - expected.withNoise.sum)).toBeLessThan(1e-2);
      expect(Math.abs(mean - expected.withNoise.mean)).toBeLessThan(1e-3);
    });

    it(`test_switch: UniPC → singlestep → DEIS → DPM → UniPC from_config, mean ${expected.noNoise} both times`, () => {
      const first = new UniPCMultistepScheduler(config());
      expect(Math.abs(sumAndMeanAbs(fullLoop(first, { sample: sample() })).mean - expected.noNoise)).toBeLessThan(1e-3);
      let c = fromConfig(first.config, DPMSolverSinglestepScheduler);
      c = fromConfig(c, DEISMultistepScheduler);
      c = fromConfig(c, DPMSolverMultistepScheduler);
      // diffusers' full_loop builds a fresh scheduler from get_scheduler_config() whatever it is given.
      new UniPCMultistepScheduler(c);
      expect(Math.abs(meanOf() - expected.noNoise)).toBeLessThan(1e-3);
    });

    it('test_solver_order_and_type: no NaN for bh1/bh2, orders 1-3, epsilon and sample prediction', () => {
      for (const solver_type of ['bh1', 'bh2']) {
        for (const solver_order of [1, 2, 3]) {
          for (const prediction_type of ['epsilon', 'sample']) {
            const s = fullLoop(new UniPCMultistepScheduler(config({ solver_type, solver_order, prediction_type })), { sample: sample() });
            expect(s.data.some(Number.isNaN)).toBe(false);
          }
        }
      }
    });
  });
}

portedSuite('UniPCMultistepSchedulerTest', [4, 3, 8, 8], {
  noNoise: 0.2464,
  karras: 0.2925,
  vPrediction: 0.1014,
  karrasV: 0.1966,
  withNoise: { sum: 315.5757, mean: 0.4109 },
});

portedSuite('UniPCMultistepScheduler1DTest', [4, 3, 8], {
  noNoise: 0.2441,
  karras: 0.2898,
  vPrediction: 0.1014,
  karrasV: 0.1944,
  withNoise: { sum: 39.087, mean: 0.4072 },
});
