import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { BUILTIN_HELP, BUILTIN_PRESETS, parseBuiltin, resolveBuiltin } from './builtin.ts';

describe('builtin model names', () => {
  it('builtin:tiny takes an optional preset and seed, in either order', () => {
    expect(parseBuiltin('builtin:shapes')).toBe('shapes');
    expect(parseBuiltin('builtin:tiny')).toEqual({ preset: 'tiny', seed: 0 });
    expect(parseBuiltin('builtin:tiny?seed=4')).toEqual({ preset: 'tiny', seed: 4 });
    expect(parseBuiltin('builtin:tiny?preset=sd2&seed=4')).toEqual({ preset: 'sd2', seed: 4 });
    expect(parseBuiltin('builtin:tiny?seed=1&preset=sd')).toEqual({ preset: 'sd', seed: 1 });
  });

  it('refuses unknown keys, repeated keys, bad seeds, unknown presets and presets too big to forge on the fly', () => {
    for (const bad of ['builtin:tiny?seed=-1', 'builtin:tiny?seed=1.5', 'builtin:tiny?seed=1&seed=2', 'builtin:tiny?preset=sd3', 'builtin:tiny?preset=sd15', 'builtin:tiny?size=2', 'builtin:tiny?', 'builtin:shapes?seed=1', 'builtin:huge']) {
      expect(parseBuiltin(bad), bad).toBeNull();
    }
    expect(BUILTIN_PRESETS).toEqual(expect.arrayContaining(['tiny', 'sd', 'sd2']));
    expect(BUILTIN_PRESETS).not.toContain('sd15');
  });

  it('names the key and lists what is accepted in one line', async () => {
    const err = await resolveBuiltin('builtin:tiny?preset=sd3', 'suite.yaml: candidate.model').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(`suite.yaml: candidate.model: unknown builtin "builtin:tiny?preset=sd3" (expected ${BUILTIN_HELP})`);
    expect(BUILTIN_HELP).toContain('builtin:tiny?preset=P&seed=N');
  });
});
