import { describe, expect, it } from 'vitest';
import { EulerDiscreteScheduler } from './euler.ts';
import { TorchCpuGenerator } from '../rng/index.ts';
import { driveReference, generatorAfterInitial, readManifest, worst } from './testing/reference-run.ts';

const RUN = 'euler_steps10_seed7';

describe('EulerDiscreteScheduler against diffusers 0.27.2', () => {
  const manifest = readManifest(RUN);

  it('gives the reference float32 timesteps and init_noise_sigma (linspace: the class default)', () => {
    const s = new EulerDiscreteScheduler(manifest.schedulerConfig);
    s.setTimesteps(manifest.pipeline.steps);
    expect(s.timesteps).toEqual(manifest.timesteps);
    expect(s.initNoiseSigma).toBe(manifest.initNoiseSigma);
    expect(s.timestepDtype).toBe('float32');
  });

  it('takes the class default spacing when the file has none, and the file value when it has one', () => {
    const { timestep_spacing: _, ...withoutSpacing } = manifest.schedulerConfig;
    const byDefault = new EulerDiscreteScheduler(withoutSpacing);
    byDefault.setTimesteps(10);
    expect(byDefault.timesteps[0]).toBe(999);
    const leading = new EulerDiscreteScheduler({ ...withoutSpacing, timestep_spacing: 'leading' });
    leading.setTimesteps(10);
    expect(leading.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    expect(leading.initNoiseSigma).toBe(Math.fround(8.450066566467285));
  });

  it('reproduces every step teacher-forced and free-running', () => {
    for (const mode of ['teacher-forced', 'free-running'] as const) {
      const { generator, initialMaxAbs } = generatorAfterInitial(RUN, (seed) => new TorchCpuGenerator(seed));
      expect(initialMaxAbs).toBe(0);
      const reports = driveReference(RUN, new EulerDiscreteScheduler(manifest.schedulerConfig), mode, generator);
      for (const r of reports) expect(r.timestep).toBe(r.refTimestep);
      console.log(`euler ${mode}: worst input ${worst(reports, 'latentModelInput').toExponential(2)} latents ${worst(reports, 'latents').toExponential(2)}`);
      expect(worst(reports, 'latentModelInput')).toBeLessThanOrEqual(1e-5);
      expect(worst(reports, 'latents')).toBeLessThanOrEqual(1e-5);
    }
  });
});
