import { describe, expect, it } from 'vitest';
import { LCMScheduler } from './lcm.ts';
import { TorchCpuGenerator } from '../rng/index.ts';
import { UsageError } from '../errors.ts';
import { driveReference, generatorAfterInitial, readManifest, worst } from './testing/reference-run.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { TraceReader } from '../trace/reader.ts';
import type { SchedulerConfig } from './types.ts';

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

  // LatentConsistencyModelImg2ImgPipeline's runs (test/reference/families/lcm, scripts/reference/families.py).
  const img2img = readdirSync(join(FAMILIES_REFERENCE, 'lcm', 'traces'))
    .filter((name) => name.startsWith('img2img'))
    .map((name) => new TraceReader(join(FAMILIES_REFERENCE, 'lcm', 'traces', name)).manifest);

  it('with strength, gives the timesteps LatentConsistencyModelImg2ImgPipeline ran', () => {
    expect(img2img.length).toBeGreaterThanOrEqual(3);
    for (const m of img2img) {
      const { steps, strength } = m.pipeline as { steps: number; strength: number };
      const s = new LCMScheduler(m.schedulerConfig as SchedulerConfig);
      s.setTimestepsForStrength(steps, strength);
      expect(s.timesteps, `steps ${steps}, strength ${strength}`).toEqual(m.timesteps);
    }
  });

  it('refuses a strength that leaves fewer origin timesteps than steps, as diffusers does', () => {
    const s = new LCMScheduler(manifest.schedulerConfig);
    expect(() => s.setTimestepsForStrength(4, 0.06)).toThrow(UsageError);
    expect(() => s.setTimestepsForStrength(4, 0.06)).toThrow(/--strength 0\.06 with --steps 4: .*int\(50 × 0\.06\) = 3 origin timesteps/);
    s.setTimestepsForStrength(4, 0.08); // 4 origin timesteps, one step each: diffusers 0.27.2 gives the same (checked by hand)
    expect(s.timesteps).toEqual([79, 59, 39, 19]);
  });

  it('refuses more steps than original_inference_steps, naming --steps', () => {
    const s = new LCMScheduler(manifest.schedulerConfig);
    expect(() => s.setTimesteps(51)).toThrow(UsageError);
    expect(() => s.setTimesteps(51)).toThrow(/--steps/);
  });
});
