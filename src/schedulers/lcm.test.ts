import { describe, expect, it } from 'vitest';
import { LCMScheduler } from './lcm.ts';
import { TorchCpuGenerator } from '../rng/index.ts';
import { UsageError } from '../errors.ts';
import { driveReference, generatorAfterInitial, readManifest, worst } from './testing/reference-run.ts';

const RUN = 'lcm_steps4_seed5';

describe('LCMScheduler against diffusers 0.27.2', () => {
  const manifest = readManifest(RUN);

  it('gives the reference timesteps and init_noise_sigma', () => {
    const s = new LCMScheduler(manifest.schedulerConfig);
    s.setTimesteps(manifest.pipeline.steps);
    expect(s.timesteps).toEqual(manifest.timesteps);
    expect(s.initNoiseSigma).toBe(manifest.initNoiseSigma);
  });

  it('reproduces every step, drawing noise on all steps but the last', () => {
    for (const mode of ['teacher-forced', 'free-running'] as const) {
      const { generator, initialMaxAbs } = generatorAfterInitial(RUN, (seed) => new TorchCpuGenerator(seed));
      expect(initialMaxAbs).toBe(0);
      const reports = driveReference(RUN, new LCMScheduler(manifest.schedulerConfig), mode, generator);
      for (const r of reports) expect(r.timestep).toBe(r.refTimestep);
      console.log(`lcm ${mode}: worst latents ${worst(reports, 'latents').toExponential(2)}`);
      expect(worst(reports, 'latents')).toBeLessThanOrEqual(1e-5);
    }
  });

  it('refuses more steps than original_inference_steps, naming --steps', () => {
    const s = new LCMScheduler(manifest.schedulerConfig);
    expect(() => s.setTimesteps(51)).toThrow(UsageError);
    expect(() => s.setTimesteps(51)).toThrow(/--steps/);
  });
});
