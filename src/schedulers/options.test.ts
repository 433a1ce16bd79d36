import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readPythonJson } from '../util/json.ts';
import { REPO_ROOT } from '../testing/paths.ts';
import { UsageError } from '../errors.ts';
import { IMPLEMENTATIONS } from './registry.ts';
import { configure, defaultsOf } from './options.ts';
import { DIFFUSERS_CLASSES } from './samplers.ts';

/** Written by scripts/reference/schedulers.py from diffusers 0.27.2's own __init__ signatures. */
const SIGNATURES = (readPythonJson(join(REPO_ROOT, 'test/reference/schedulers/signatures.json')) as {
  classes: Record<string, Record<string, unknown>>;
}).classes;

const implemented = Object.entries(IMPLEMENTATIONS).filter(([, impl]) => impl !== null);

describe('scheduler option tables against diffusers 0.27.2 signatures', () => {
  it.each(implemented)('%s declares exactly the keys and defaults of its diffusers __init__', (className, impl) => {
    const signature = SIGNATURES[className];
    expect(signature).toBeDefined();
    expect(Object.keys(impl!.options).sort()).toEqual(Object.keys(signature).sort());
    expect(defaultsOf(impl!.options)).toEqual(signature);
    expect(impl!.className).toBe(className);
  });

  it.each(implemented)('%s builds from its defaults alone', (_className, impl) => {
    const s = new impl!({});
    s.setTimesteps(10);
    expect(s.timesteps.length).toBeGreaterThanOrEqual(10);
  });

  it('knows a signature for every class a name can resolve to (but the refused SDE one)', () => {
    for (const c of DIFFUSERS_CLASSES) if (c !== 'DPMSolverSDEScheduler') expect(SIGNATURES).toHaveProperty(c);
  });

  it('refuses a value lockstep does not implement by key and value, and ignores other classes\' keys', () => {
    const table = { prediction_type: { default: 'epsilon', implemented: ['epsilon'] }, steps: { default: 1 } };
    expect(configure('X', table, { prediction_type: 'epsilon', skip_prk_steps: true })).toEqual({ prediction_type: 'epsilon', steps: 1 });
    expect(() => configure('X', table, { prediction_type: 'sample' })).toThrow(UsageError);
    expect(() => configure('X', table, { prediction_type: 'sample' })).toThrow(/\(X\): "prediction_type" = "sample" is not implemented by lockstep/);
  });

  it('says why, where the table says why', () => {
    const dpm = IMPLEMENTATIONS.DPMSolverMultistepScheduler!;
    expect(() => new dpm({ variance_type: 'learned_range' })).toThrow(/"variance_type" = "learned_range" .*extra variance channels/);
  });
});
