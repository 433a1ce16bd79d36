import { describe, expect, it } from 'vitest';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.ts';
import { TorchCpuGenerator } from '../rng/index.ts';
import { UsageError } from '../errors.ts';
import { float32 } from '../tensor/tensor.ts';
import { driveReference, generatorAfterInitial, readManifest, worst } from './testing/reference-run.ts';

const RUN = 'euler-a_steps10_seed7';

describe('EulerAncestralDiscreteScheduler against diffusers 0.27.2', () => {
  const manifest = readManifest(RUN);

  it('gives the reference float32 timesteps and init_noise_sigma', () => {
    const s = new EulerAncestralDiscreteScheduler(manifest.schedulerConfig);
    s.setTimesteps(manifest.pipeline.steps);
    expect(s.timesteps).toEqual(manifest.timesteps);
    expect(s.initNoiseSigma).toBe(manifest.initNoiseSigma);
  });

  it('reproduces every step, drawing its noise from the generator that drew the latents', () => {
    for (const mode of ['teacher-forced', 'free-running'] as const) {
      const { generator, initialMaxAbs } = generatorAfterInitial(RUN, (seed) => new TorchCpuGenerator(seed));
      expect(initialMaxAbs).toBe(0);
      const reports = driveReference(RUN, new EulerAncestralDiscreteScheduler(manifest.schedulerConfig), mode, generator);
      for (const r of reports) expect(r.timestep).toBe(r.refTimestep);
      console.log(`euler-a ${mode}: worst input ${worst(reports, 'latentModelInput').toExponential(2)} latents ${worst(reports, 'latents').toExponential(2)}`);
      expect(worst(reports, 'latentModelInput')).toBeLessThanOrEqual(1e-5);
      expect(worst(reports, 'latents')).toBeLessThanOrEqual(1e-5);
    }
  });

  it('refuses to step without a generator', () => {
    const s = new EulerAncestralDiscreteScheduler(manifest.schedulerConfig);
    s.setTimesteps(2);
    const x = float32([1, 4]);
    expect(() => s.step(x, s.timesteps[0], x)).toThrow(UsageError);
  });
});
