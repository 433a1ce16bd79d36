/**
 * Every pipeline family against diffusers itself: `generate` on tiny models
 * built and exported by scripts/reference/families.py reproduces the runs of
 * diffusers' unmodified pipelines recorded there — every recorded tensor
 * within 1e-5 of max(1, max|ref|) (guided noise predictions within that times
 * the guidance scale), pixels within ±1 — and each exported component
 * matches its PyTorch module on the stored input.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { type ComponentName, OnnxComponent } from '../models/component.ts';
import { readNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { relativeError } from '../testing/relative-error.ts';
import { TraceReader } from '../trace/reader.ts';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { generate } from './generate.ts';
import { readPng } from './image.ts';
import type { PipelineSettings } from './settings.ts';

const CASES = readdirSync(FAMILIES_REFERENCE, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(FAMILIES_REFERENCE, d.name, 'traces')).map((t) => [d.name, t] as const));

describe.each(CASES)('%s: generate reproduces the diffusers trace %s', (family, name) => {
  it('every recorded tensor within 1e-5 of max(1, max|ref|), pixels within ±1', async () => {
    const dir = join(FAMILIES_REFERENCE, family);
    const reference = new TraceReader(join(dir, 'traces', name));
    const recorded = reference.manifest.pipeline as PipelineSettings & { strength?: number };
    const out = mkdtempSync(join(tmpdir(), 'lockstep-family-'));
    const settings: PipelineSettings = { ...recorded, negativePrompt: recorded.negativePrompt ?? '' };
    if (recorded.strength !== undefined) settings.image = join(dir, 'input.png');
    await generate({ model: join(dir, 'model'), settings, imageOut: join(out, 'image.png'), traceDir: join(out, 'trace') });
    const ours = new TraceReader(join(out, 'trace'));
    expect(ours.timesteps()).toEqual(reference.manifest.timesteps);

    const compared: string[] = [];
    for (const file of Object.keys(reference.manifest.files)) {
      const tensorName = file.replace(/\.npy$/, '');
      const expected = reference.require(tensorName);
      const actual = ours.get(tensorName);
      expect(actual, `lockstep did not record ${tensorName}`).toBeDefined();
      if (tensorName.endsWith('timestep')) {
        // The value must agree; the dtype is what the ONNX U-Net declares (int64), not the scheduler's.
        expect(Number(actual!.data[0]), tensorName).toBe(Number(expected.data[0]));
        continue;
      }
      if (tensorName.includes('_ids')) {
        expect(Array.from(actual!.data as BigInt64Array), tensorName).toEqual(Array.from(expected.data as BigInt64Array));
        continue;
      }
      const guided = /noise_pred$/.test(tensorName) && reference.has(tensorName.replace(/noise_pred$/, 'noise_pred_uncond'));
      const tolerance = 1e-5 * (guided ? recorded.guidanceScale! : 1);
      expect(relativeError(expected, actual!), tensorName).toBeLessThanOrEqual(tolerance);
      compared.push(tensorName);
    }
    expect(compared.length).toBeGreaterThanOrEqual(6);

    const expectedPng = await readPng(join(reference.dir, 'final/image.png'));
    const actualPng = await readPng(join(out, 'image.png'));
    expect([actualPng.width, actualPng.height]).toEqual([expectedPng.width, expectedPng.height]);
    let worst = 0;
    for (let i = 0; i < expectedPng.data.length; i++) worst = Math.max(worst, Math.abs(expectedPng.data[i] - actualPng.data[i]));
    expect(worst).toBeLessThanOrEqual(1);
  });
});

const COMPONENTS = readdirSync(FAMILIES_REFERENCE, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(FAMILIES_REFERENCE, d.name, 'checks')).map((c) => [d.name, c] as const));

describe.each(COMPONENTS)('%s: the exported %s matches its PyTorch module', (family, component) => {
  it('every output within 1e-5 of max(1, max|torch|) on the stored input', async () => {
    const dir = join(FAMILIES_REFERENCE, family);
    const checks = join(dir, 'checks', component);
    const file = join(dir, 'model', component, 'model.onnx');
    expect(existsSync(file)).toBe(true);
    const part = await OnnxComponent.open(component as ComponentName, file, DEFAULT_BACKEND);
    try {
      const feeds: Record<string, Tensor> = {};
      for (const f of readdirSync(checks).filter((n) => n.startsWith('in.'))) feeds[f.slice(3, -4)] = readNpy(join(checks, f));
      const out = await part.run(feeds);
      const outputs = readdirSync(checks).filter((n) => n.startsWith('out.'));
      expect(outputs.length).toBeGreaterThan(0);
      for (const f of outputs) {
        const name = f.slice(4, -4);
        expect(out[name], name).toBeDefined();
        expect(relativeError(readNpy(join(checks, f)), out[name]), name).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await part.release();
    }
  });
});
