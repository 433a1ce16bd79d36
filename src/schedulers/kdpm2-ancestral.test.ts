import { describe, expect, it } from 'vitest';
import { checkStackedRun, readStackedRun, stackedRuns } from './testing/stacked-reference.ts';

describe('KDPM2AncestralDiscreteScheduler against diffusers 0.27.2 (test/reference/schedulers)', () => {
  const runs = stackedRuns('kdpm2-a');
  it('has reference runs, one of them ≥ 25 steps', () => {
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.some((r) => readStackedRun(r).manifest.pipeline.steps >= 25)).toBe(true);
  });
  for (const name of runs) {
    // The midpoint timesteps go through torch 2.13's float32 exp, modelled by a rounded Math.exp: on
    // ~1 in 50 midpoints they differ by one or two float32 ulps (first-order timesteps and sigmas are exact).
    it(`${name}: timesteps within 2 float32 ulps, every call within 1e-5 of max(1, |ref|)`, () => {
      expect(checkStackedRun(name, (a, b) => expect(a).toEqual(b), 2)).toBeLessThanOrEqual(1e-5);
    });
  }
});
