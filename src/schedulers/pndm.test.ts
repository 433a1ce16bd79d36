import { describe, expect, it } from 'vitest';
import { PNDMScheduler } from './pndm.ts';
import { UsageError } from '../errors.ts';
import { driveReference, readManifest, worst } from './testing/reference-run.ts';

const RUN = 'pndm_steps10_seed42';

describe('PNDMScheduler against diffusers 0.27.2', () => {
  const manifest = readManifest(RUN);

  it('gives the reference timesteps (801 twice) and init_noise_sigma', () => {
    const s = new PNDMScheduler(manifest.schedulerConfig);
    s.setTimesteps(manifest.pipeline.steps);
    expect(s.timesteps).toEqual(manifest.timesteps);
    expect(s.initNoiseSigma).toBe(manifest.initNoiseSigma);
  });

  it('reproduces every step teacher-forced and free-running', () => {
    for (const mode of ['teacher-forced', 'free-running'] as const) {
      const reports = driveReference(RUN, new PNDMScheduler(manifest.schedulerConfig), mode);
      expect(reports).toHaveLength(11);
      for (const r of reports) expect(r.timestep).toBe(r.refTimestep);
      console.log(`pndm ${mode}: worst latents ${worst(reports, 'latents').toExponential(2)}`);
      expect(worst(reports, 'latents')).toBeLessThanOrEqual(1e-5);
    }
  });

  it('lays out the PRK warm-up as diffusers does', () => {
    const s = new PNDMScheduler({ ...manifest.schedulerConfig, skip_prk_steps: false });
    s.setTimesteps(10);
    // diffusers 0.27.2: prk [901,851,851,801,801,751,751,701,701,651,651,601] then plms 601…1
    expect(s.timesteps).toEqual([901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1]);
  });

  it('refuses --steps outside 1..num_train_timesteps', () => {
    const s = new PNDMScheduler(manifest.schedulerConfig);
    expect(() => s.setTimesteps(0)).toThrow(UsageError);
    expect(() => s.setTimesteps(1001)).toThrow(/--steps/);
  });
});
