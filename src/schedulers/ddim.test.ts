import { describe, expect, it } from 'vitest';
import { DDIMScheduler } from './ddim.ts';
import { driveReference, readManifest, worst } from './testing/reference-run.ts';

const RUN = 'ddim_steps10_seed42';

describe('DDIMScheduler against diffusers 0.27.2', () => {
  const manifest = readManifest(RUN);

  it('gives the reference timesteps and init_noise_sigma', () => {
    const s = new DDIMScheduler(manifest.schedulerConfig);
    s.setTimesteps(manifest.pipeline.steps);
    expect(s.timesteps).toEqual(manifest.timesteps);
    expect(s.initNoiseSigma).toBe(manifest.initNoiseSigma);
  });

  it('reproduces every step teacher-forced and free-running', () => {
    for (const mode of ['teacher-forced', 'free-running'] as const) {
      const reports = driveReference(RUN, new DDIMScheduler(manifest.schedulerConfig), mode);
      for (const r of reports) expect(r.timestep).toBe(r.refTimestep);
      console.log(`ddim ${mode}: worst latents ${worst(reports, 'latents').toExponential(2)}`);
      expect(worst(reports, 'latentModelInput')).toBeLessThanOrEqual(1e-5);
      expect(worst(reports, 'latents')).toBeLessThanOrEqual(1e-5);
    }
  });
});
