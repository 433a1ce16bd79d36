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
import { expectGenerateReproduces, modelForTrace, readTorchCheck } from '../testing/diffusers-trace.ts';
import { relativeError } from '../testing/relative-error.ts';
import { TraceReader } from '../trace/reader.ts';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';

const CASES = readdirSync(FAMILIES_REFERENCE, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(FAMILIES_REFERENCE, d.name, 'traces')).map((t) => [d.name, t] as const));

describe.each(CASES)('%s: generate reproduces the diffusers trace %s', (family, name) => {
  it('every recorded tensor within 1e-5 of max(1, max|ref|), pixels within ±1', async () => {
    const dir = join(FAMILIES_REFERENCE, family);
    const reference = join(dir, 'traces', name);
    const image = (new TraceReader(reference).manifest.pipeline as { strength?: number }).strength !== undefined ? join(dir, 'input.png') : undefined;
    const out = mkdtempSync(join(tmpdir(), 'lockstep-family-'));
    await expectGenerateReproduces({ model: modelForTrace(join(dir, 'model'), reference, out), reference, image, out, minCompared: 6 });
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
      const torch = readTorchCheck(checks);
      const out = await part.run(torch.inputs);
      expect(Object.keys(torch.outputs).length).toBeGreaterThan(0);
      for (const [name, expected] of Object.entries(torch.outputs)) {
        expect(out[name], name).toBeDefined();
        expect(relativeError(expected, out[name]), name).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await part.release();
    }
  });
});
