import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli } from '../../testing/cli.ts';
import { ensureTinyModel } from '../../forge/cache.ts';
import { readNpy } from '../../tensor/npy.ts';

describe('lockstep schedulers', () => {
  it('lists the web-UI names, the classes and their options', async () => {
    const { code, stdout } = await runCli(['schedulers']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/DPM\+\+ 2M Karras +DPMSolverMultistepScheduler \(use_karras_sigmas=true/);
    expect(stdout).toMatch(/DPM\+\+ SDE Karras .*REFUSED: .*Brownian tree/);
    expect(stdout).toMatch(/DPMSolverMultistepScheduler \[dpmpp-2m\]\n(.*\n)*? +final_sigmas_type +default "zero" +implemented: "zero" \| "sigma_min"/);
  });

  it('prints JSON with --json', async () => {
    const { code, stdout } = await runCli(['schedulers', '--json']);
    expect(code).toBe(0);
    const listing = JSON.parse(stdout) as { samplers: { name: string; status: string }[]; classes: { className: string }[] };
    expect(listing.samplers.find((s) => s.name === 'Euler a')?.status).toBe('implemented');
    expect(listing.classes.map((c) => c.className)).toContain('UniPCMultistepScheduler');
  });
});

describe('lockstep generate --scheduler with web-UI names on the tiny model', () => {
  const out = mkdtempSync(join(tmpdir(), 'lockstep-samplers-'));
  const names = ['DPM++ 2M Karras', 'DPM++ 2M SDE Karras', 'UniPC', 'Euler a'];

  it.each(names)('runs "%s"', async (name) => {
    const model = await ensureTinyModel(0);
    const trace = join(out, name.replace(/\W+/g, '_'));
    const args = ['generate', '--model', model, '--prompt', 'a cat', '--seed', '1', '--steps', '4', '--height', '64', '--width', '64'];
    const { code, stderr } = await runCli([...args, '--scheduler', name, '--out', `${trace}.png`, '--trace', trace]);
    expect(stderr).not.toMatch(/error/);
    expect(code).toBe(0);
    const latents = readNpy(join(trace, 'final/latents.npy'));
    expect(latents.dims).toEqual([1, 4, 8, 8]);
    expect(Array.from(latents.data as Float32Array).every(Number.isFinite)).toBe(true);
  }, 60_000);

  it('exits 2 naming a refused sampler', async () => {
    const model = await ensureTinyModel(0);
    const { code, stderr } = await runCli(['generate', '--model', model, '--prompt', 'a', '--seed', '1', '--steps', '2', '--scheduler', 'DPM++ SDE Karras', '--out', join(out, 'x.png')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/"DPM\+\+ SDE Karras" is refused by lockstep: .*Brownian tree/);
  }, 60_000);
});
