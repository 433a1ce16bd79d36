/**
 * The foundation's promise: `generate` on the reference tiny-sd pipeline
 * reproduces diffusers' own runs (recorded by PyTorch) tensor for tensor.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareTensors } from '../metrics/index.ts';
import { REFERENCE_DIR, TINY_SD_REFERENCE } from '../testing/paths.ts';
import { TraceReader } from '../trace/reader.ts';
import { generate } from './generate.ts';
import { readPng } from './image.ts';
import type { PipelineSettings } from './settings.ts';

const TRACES = join(REFERENCE_DIR, 'traces');

describe.each(readdirSync(TRACES))('generate reproduces diffusers trace %s', (name) => {
  it('every recorded tensor within max-abs 1e-4, final latents cosine ≥ 0.99999, pixels within ±1', async () => {
    const reference = new TraceReader(join(TRACES, name));
    const recorded = reference.manifest.pipeline as PipelineSettings;
    const out = mkdtempSync(join(tmpdir(), 'lockstep-ref-'));
    await generate({
      model: TINY_SD_REFERENCE,
      settings: { ...recorded, negativePrompt: recorded.negativePrompt ?? '' },
      imageOut: join(out, 'image.png'),
      traceDir: join(out, 'trace'),
    });
    const ours = new TraceReader(join(out, 'trace'));
    expect(ours.timesteps()).toEqual(reference.manifest.timesteps);

    const compared: string[] = [];
    for (const file of Object.keys(reference.manifest.files)) {
      const tensorName = file.replace(/\.npy$/, '');
      if (tensorName === 'final/vae_input') continue; // an extra of the reference, checked below
      const expected = reference.require(tensorName);
      const actual = ours.require(tensorName);
      if (tensorName.endsWith('/timestep')) {
        // diffusers hands PyTorch the scheduler's own dtype (float32 for Euler); an ONNX U-Net gets the
        // dtype its graph declares (int64 here), as optimum's ONNX pipeline feeds it. The value must agree.
        expect(actual.dtype, tensorName).toBe('int64');
        expect(Number(actual.data[0]), tensorName).toBe(Number(expected.data[0]));
        continue;
      }
      if (tensorName.includes('_ids')) {
        expect(Array.from(actual.data as BigInt64Array), tensorName).toEqual(Array.from(expected.data as BigInt64Array));
        continue;
      }
      expect(compareTensors(expected, actual, tensorName).maxAbs, tensorName).toBeLessThanOrEqual(1e-4);
      compared.push(tensorName);
    }
    expect(compared.length).toBeGreaterThan(40);
    expect(compareTensors(reference.require('final/latents'), ours.require('final/latents')).cosine).toBeGreaterThanOrEqual(0.99999);

    const expectedPng = await readPng(join(reference.dir, 'final/image.png'));
    const actualPng = await readPng(join(out, 'image.png'));
    expect([actualPng.width, actualPng.height]).toEqual([expectedPng.width, expectedPng.height]);
    let worst = 0;
    for (let i = 0; i < expectedPng.data.length; i++) worst = Math.max(worst, Math.abs(expectedPng.data[i] - actualPng.data[i]));
    expect(worst).toBeLessThanOrEqual(1);
  });
});
