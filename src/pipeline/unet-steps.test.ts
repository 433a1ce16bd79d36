/**
 * diffusers loops over `scheduler.timesteps`, not over the requested step
 * count: PNDM's PLMS (skip_prk_steps) makes steps + 1 U-Net calls, repeating
 * one timestep, as the reference scheduler trace records.
 */
import { expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REFERENCE_DIR, TINY_SD_REFERENCE } from '../testing/paths.ts';
import { TraceReader } from '../trace/reader.ts';
import { generate } from './generate.ts';

it('a 10-step PNDM run makes the 11 U-Net calls diffusers makes, at its timesteps', async () => {
  const pndm = new TraceReader(join(REFERENCE_DIR, 'schedulers', 'pndm_steps10_seed42'));
  const out = mkdtempSync(join(tmpdir(), 'lockstep-pndm-'));
  await generate({
    model: TINY_SD_REFERENCE,
    settings: { prompt: 'a cat', negativePrompt: '', seed: 42, noise: 'torch-cpu', steps: 10, scheduler: 'pndm', guidanceScale: 7.5, height: 64, width: 64 },
    imageOut: join(out, 'image.png'),
    traceDir: join(out, 'trace'),
  });
  const ours = new TraceReader(join(out, 'trace'));
  expect(pndm.stepCount).toBe(11);
  expect(ours.stepCount).toBe(11);
  expect(ours.timesteps()).toEqual(pndm.manifest.timesteps);
});
