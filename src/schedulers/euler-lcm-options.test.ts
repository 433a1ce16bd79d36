/**
 * Options of Euler, Euler ancestral and LCM against diffusers 0.27.2 scheduler-only runs
 * (test/reference/schedulers/b-runs: Karras sigmas, sample / original_sample prediction,
 * zero-SNR rescaling with v-prediction, leading / trailing spacing, clip_sample, thresholding).
 */
import { describe, expect, it } from 'vitest';
import { createScheduler } from './registry.ts';
import { checkStackedRun, stackedRuns } from './testing/stacked-reference.ts';

describe('Euler, Euler ancestral and LCM options against diffusers 0.27.2 (test/reference/schedulers/b-runs)', () => {
  for (const scheduler of ['euler', 'euler-a', 'lcm']) {
    for (const name of stackedRuns(scheduler)) {
      it(`${name}: timesteps identical, every call within 1e-6 of max(1, |ref|) (issue bound 1e-5; measured ≤ 3.3e-7)`, () => {
        expect(checkStackedRun(name, (a, b) => expect(a).toEqual(b))).toBeLessThanOrEqual(1e-6);
      });
    }
  }

  it('Euler ancestral refuses "sample" prediction by name, as diffusers raises NotImplementedError in step', () => {
    expect(() => createScheduler('euler-a', { prediction_type: 'sample' })).toThrow(/prediction_type.*NotImplementedError/);
  });
});
