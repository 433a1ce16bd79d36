import { describe, expect, it } from 'vitest';
import { DPMSolverMultistepScheduler } from './dpmpp-2m.ts';
import { UsageError } from '../errors.ts';
import { driveReference, readManifest, worst } from './testing/reference-run.ts';

const RUN = 'dpmpp-2m_steps10_seed3';

describe('DPMSolverMultistepScheduler (dpmsolver++) against diffusers 0.27.2', () => {
  const manifest = readManifest(RUN);

  it('gives the reference timesteps and init_noise_sigma (lambda_min_clipped -Infinity)', () => {
    expect(manifest.schedulerConfig.lambda_min_clipped).toBe(-Infinity);
    const s = new DPMSolverMultistepScheduler(manifest.schedulerConfig);
    s.setTimesteps(manifest.pipeline.steps);
    expect(s.timesteps).toEqual(manifest.timesteps);
    expect(s.initNoiseSigma).toBe(manifest.initNoiseSigma);
    expect(s.sigmas[s.sigmas.length - 1]).toBe(0);
  });

  it('reproduces every step teacher-forced and free-running', () => {
    for (const mode of ['teacher-forced', 'free-running'] as const) {
      const reports = driveReference(RUN, new DPMSolverMultistepScheduler(manifest.schedulerConfig), mode);
      for (const r of reports) expect(r.timestep).toBe(r.refTimestep);
      console.log(`dpmpp-2m ${mode}: worst latents ${worst(reports, 'latents').toExponential(2)}`);
      expect(worst(reports, 'latents')).toBeLessThanOrEqual(1e-5);
    }
  });

  it('refuses settings it does not implement, naming the key', () => {
    const base = manifest.schedulerConfig;
    expect(() => new DPMSolverMultistepScheduler({ ...base, algorithm_type: 'edm' })).toThrow(/"algorithm_type" = "edm"/);
    expect(() => new DPMSolverMultistepScheduler({ ...base, variance_type: 'learned' })).toThrow(UsageError);
    expect(() => new DPMSolverMultistepScheduler({ ...base, variance_type: 'learned_range' })).toThrow(/"variance_type"/);
    expect(() => new DPMSolverMultistepScheduler({ ...base, solver_order: 4 })).toThrow(/solver_order/);
    // diffusers has no third-order SDE update, and raises for dpmsolver with final_sigmas_type "zero".
    expect(() => new DPMSolverMultistepScheduler({ ...base, algorithm_type: 'sde-dpmsolver++', solver_order: 3 })).toThrow(/solver_order/);
    expect(() => new DPMSolverMultistepScheduler({ ...base, algorithm_type: 'dpmsolver' })).toThrow(/final_sigmas_type/);
  });

  it('clips the schedule at lambda_min_clipped', () => {
    const s = new DPMSolverMultistepScheduler({ ...manifest.schedulerConfig, lambda_min_clipped: -2.5 });
    s.setTimesteps(10);
    // SD's lambda ends near -2.68 (sigma 14.6): clipping at -2.5 cuts the noisiest training steps.
    expect(s.timesteps[0]).toBeLessThan(999);
    expect(s.timesteps[0]).toBeGreaterThan(800);
  });
});

describe('DPM-Solver++ with Karras sigmas (issue #13: 0.27.2 ends at final_sigmas_type, not the last sigma again)', () => {
  it('appends 0 for "zero" and sigma_min for "sigma_min", for the Karras and Lu schedules too', () => {
    for (const schedule of [{ use_karras_sigmas: true }, { use_lu_lambdas: true }]) {
      const zero = new DPMSolverMultistepScheduler({ ...schedule });
      zero.setTimesteps(12);
      expect(zero.sigmas[12]).toBe(0);
      expect(zero.sigmas[11]).toBeGreaterThan(0);
      const min = new DPMSolverMultistepScheduler({ ...schedule, final_sigmas_type: 'sigma_min' });
      min.setTimesteps(12);
      expect(min.sigmas[12]).toBeCloseTo(Math.sqrt(0.0001 / (1 - 0.0001)), 5);
    }
  });
});
