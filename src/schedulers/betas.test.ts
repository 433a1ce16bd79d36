import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { makeAlphasCumprod, makeBetas } from './betas.ts';
import { trainingSigmas } from './sigmas.ts';
import { readPythonJson } from '../util/json.ts';
import { REFERENCE_DIR } from '../testing/paths.ts';

const SD = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', trained_betas: null } as const;

describe('beta schedules as torch builds them', () => {
  it('reproduces the float32 sigmas diffusers recorded for SD (torch.linspace AVX2 kernel + double cumprod)', () => {
    const manifest = readPythonJson(join(REFERENCE_DIR, 'traces/euler_s10_seed7_g7.5_128x128/manifest.json')) as {
      timesteps: number[];
      sigmas: number[];
    };
    const sigmas = trainingSigmas(makeAlphasCumprod(SD));
    expect(manifest.timesteps.map((t) => sigmas[t])).toEqual(manifest.sigmas.slice(0, -1));
    // init_noise_sigma of the linspace reference = the largest training sigma
    expect(sigmas[999]).toBe(14.614645004272461);
  });

  it('rescale_betas_zero_snr drives the terminal alphas_cumprod to zero', () => {
    const ac = makeAlphasCumprod({ ...SD, rescale_betas_zero_snr: true });
    expect(ac[999]).toBe(0);
    expect(ac[0]).toBeCloseTo(makeAlphasCumprod(SD)[0], 6);
  });

  it('squaredcos_cap_v2 is capped at 0.999', () => {
    const betas = makeBetas({ ...SD, beta_schedule: 'squaredcos_cap_v2' });
    expect(Math.max(...betas)).toBe(Math.fround(0.999));
    expect(betas[0]).toBeGreaterThan(0);
  });
});

describe('torch.linspace (float32) as torch 1.13 computes it on the CPU', () => {
  it('matches torch on 12 ranges bit for bit, the default linear betas included (fused lanes were 2 ulps off there)', async () => {
    const { torchLinspaceF32 } = await import('./betas.ts');
    const { REPO_ROOT } = await import('../testing/paths.ts');
    const ref = readPythonJson(join(REPO_ROOT, 'test/reference/schedulers/torch-linspace.json')) as {
      cases: { start: number; end: number; steps: number; values: number[] }[];
    };
    expect(ref.cases).toHaveLength(12);
    for (const c of ref.cases) expect(Array.from(torchLinspaceF32(c.start, c.end, c.steps))).toEqual(c.values);
  });
});
