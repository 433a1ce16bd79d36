import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createScheduler, loadSchedulerConfig, schedulerNameOf, SCHEDULER_NAMES } from './index.ts';
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
    expect(() => schedulerNameOf('heun')).toThrow(UsageError);
    expect(() => schedulerNameOf('heun')).toThrow(/ddim.*pndm.*euler.*euler-a.*dpmpp-2m.*lcm/);
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
    writeFileSync(path, '{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "thresholding": true}');
    const config = loadSchedulerConfig(path);
    expect(config.lambda_min_clipped).toBe(-Infinity);
    expect(() => createScheduler('dpmpp-2m', config)).toThrow(/"thresholding"/);
    expect(() => createScheduler('ddim', { prediction_type: 'sample' })).toThrow(/"prediction_type"/);
    expect(() => createScheduler('euler', { beta_schedule: 'cubic' })).toThrow(/"beta_schedule"/);
  });

  it('ignores keys of other classes', () => {
    const s = createScheduler('euler', { skip_prk_steps: true, clip_sample: false, timestep_spacing: 'leading' });
    expect(s.config).not.toHaveProperty('skip_prk_steps');
    expect(s.config.timestep_spacing).toBe('leading');
  });
});
