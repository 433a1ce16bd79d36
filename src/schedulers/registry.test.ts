import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createScheduler, loadSchedulerConfig, resolveScheduler, schedulerClassOf, schedulerNameOf, SCHEDULER_NAMES } from './index.ts';
import { IMPLEMENTATIONS } from './registry.ts';
import { SAMPLER_NAMES } from './samplers.ts';
import { UsageError } from '../errors.ts';
import { readPythonJson } from '../util/json.ts';
import { REFERENCE_DIR, TINY_SD_REFERENCE } from '../testing/paths.ts';

interface TraceManifest {
  schedulerClass: string;
  timesteps: number[];
  initNoiseSigma: number;
  pipeline: { steps: number };
}

const TRACES = join(REFERENCE_DIR, 'traces');

describe('scheduler registry', () => {
  it('accepts CLI names and diffusers class names, and lists the valid ones otherwise', () => {
    expect(schedulerNameOf('EulerAncestralDiscreteScheduler')).toBe('euler-a');
    expect(schedulerNameOf('dpmpp-2m')).toBe('dpmpp-2m');
    expect(() => schedulerNameOf('nope')).toThrow(UsageError);
    expect(() => schedulerNameOf('nope')).toThrow(/ddim, pndm, euler, euler-a, dpmpp-2m, lcm/);
  });

  it('maps web-UI sampler names to a class and the keys they pin, whatever the case and spacing', () => {
    expect(resolveScheduler('DPM++ 2M Karras')).toMatchObject({
      className: 'DPMSolverMultistepScheduler',
      pins: { use_karras_sigmas: true, algorithm_type: 'dpmsolver++' },
    });
    expect(schedulerClassOf('euler A')).toBe('EulerAncestralDiscreteScheduler');
    expect(schedulerClassOf('  dpm++  2m ')).toBe('DPMSolverMultistepScheduler');
    const s = createScheduler('DPM++ 2M Karras', { use_karras_sigmas: false, solver_order: 3 });
    expect(s.config).toMatchObject({ use_karras_sigmas: true, solver_order: 2 });
  });

  it('refuses DPM++ SDE by name, saying why (torchsde Brownian tree noise)', () => {
    for (const name of ['DPM++ SDE Karras', 'DPM++ SDE', 'DPMSolverSDEScheduler', 'dpmpp-sde']) {
      expect(() => createScheduler(name, {})).toThrow(UsageError);
      expect(() => createScheduler(name, {})).toThrow(/Brownian tree/);
    }
    expect(() => createScheduler('DPM fast', {})).toThrow(/no equivalent/);
  });

  it('refuses a class that is not implemented yet, naming it', () => {
    const missing = Object.entries(IMPLEMENTATIONS).find(([c, impl]) => impl === null && c !== 'DPMSolverSDEScheduler');
    if (!missing) return; // every class is implemented: nothing left to refuse
    expect(() => createScheduler(missing[0], {})).toThrow(new RegExp(`${missing[0]}.*not implemented by lockstep yet`));
  });

  it('every sampler name resolves to a scheduler or a refusal that names it', () => {
    for (const sampler of SAMPLER_NAMES) {
      let built = false;
      try {
        createScheduler(sampler.name, {}).setTimesteps(5);
        built = true;
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        expect((err as Error).message).toMatch(/refused|not implemented/);
      }
      if (sampler.refused) expect(built).toBe(false);
    }
  });

  it('builds every scheduler from the PNDM file of an SD folder, as from_config does', () => {
    const config = loadSchedulerConfig(join(TINY_SD_REFERENCE, 'scheduler/scheduler_config.json'));
    for (const name of SCHEDULER_NAMES) {
      const s = createScheduler(name, config);
      s.setTimesteps(4);
      expect(s.timesteps.length).toBeGreaterThanOrEqual(4);
      expect(s.name).toBe(name);
    }
  });

  it.each(existsSync(TRACES) ? readdirSync(TRACES) : [])('gives trace %s its exact timesteps and init_noise_sigma', (trace) => {
    const manifest = readPythonJson(join(TRACES, trace, 'manifest.json')) as TraceManifest;
    const config = loadSchedulerConfig(join(TINY_SD_REFERENCE, 'scheduler/scheduler_config.json'));
    const s = createScheduler(manifest.schedulerClass, config);
    s.setTimesteps(manifest.pipeline.steps);
    expect(s.timesteps).toEqual(manifest.timesteps);
    expect(s.initNoiseSigma).toBe(manifest.initNoiseSigma);
  });

  it('reads -Infinity from a config file and refuses unsupported settings by key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-sched-'));
    const path = join(dir, 'scheduler_config.json');
    writeFileSync(path, '{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "variance_type": "learned_range"}');
    const config = loadSchedulerConfig(path);
    expect(config.lambda_min_clipped).toBe(-Infinity);
    expect(() => createScheduler('dpmpp-2m', config)).toThrow(/"variance_type"/);
    expect(() => createScheduler('pndm', { prediction_type: 'sample' })).toThrow(/"prediction_type"/);
    expect(() => createScheduler('euler', { beta_schedule: 'cubic' })).toThrow(/"beta_schedule"/);
  });

  it('ignores keys of other classes', () => {
    const s = createScheduler('euler', { skip_prk_steps: true, clip_sample: false, timestep_spacing: 'leading' });
    expect(s.config).not.toHaveProperty('skip_prk_steps');
    expect(s.config.timestep_spacing).toBe('leading');
  });
});
