import { describe, expect, it } from 'vitest';
import { checkStackedRun, readStackedRun, stackedRuns } from './testing/stacked-reference.ts';

describe('KDPM2AncestralDiscreteScheduler against diffusers 0.27.2 (test/reference/schedulers)', () => {
  const runs = stackedRuns('kdpm2-a');
  it('has reference runs, one of them ≥ 25 steps', () => {
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.some((r) => readStackedRun(r).manifest.pipeline.steps >= 25)).toBe(true);
  });
  for (const name of runs) {
    it(`${name}: timesteps identical, every call within 1e-6 of max(1, |ref|) (issue bound 1e-5; measured ≤ 3.3e-7)`, () => {
      expect(checkStackedRun(name, (a, b) => expect(a).toEqual(b))).toBeLessThanOrEqual(1e-6);
    });
  }
});
