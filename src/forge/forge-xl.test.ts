/**
 * The LCM and SDXL builders against PyTorch itself: scripts/reference/forge-check-xl.py
 * loaded the forged ONNX initializers by name into diffusers' UNet2DConditionModel and
 * transformers' CLIPTextModel / CLIPTextModelWithProjection built from the forged
 * config.json (strict both ways) and stored one call's input and output; the forged
 * graphs must give the same within 1e-5 of max(1, max|torch|) (this also pins the forged
 * weights: a changed forge fails here until the script is rerun). Signatures are checked
 * against the committed diffusers-made exports (names, dtypes, order). And the whole forged
 * folder as diffusers reads it (tokenizers, scheduler config, model_index.json) in the
 * unmodified StableDiffusionXLPipeline / LatentConsistencyModelPipeline: lockstep generate
 * on the folder reproduces those runs' traces.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { generate } from '../pipeline/generate.ts';
import { readPng } from '../pipeline/image.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { readNpy } from '../tensor/npy.ts';
import { TraceReader } from '../trace/reader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { FAMILIES_REFERENCE, REPO_ROOT } from '../testing/paths.ts';
import { relativeError } from '../testing/relative-error.ts';
import { ensureForgedModel } from './cache.ts';

const TORCH_CHECKS = join(REPO_ROOT, 'test', 'reference', 'forge-xl');
/** What the script checked: each preset's components whose builders are this family's own. */
const CHECKED: Record<string, string[]> = { sdxl: ['unet', 'text_encoder', 'text_encoder_2'], lcm: ['unet'] };
const CASES = Object.entries(CHECKED).flatMap(([preset, parts]) => parts.map((c) => [preset, c] as const));

/** The forged folder of `preset` at seed 0, as `lockstep forge tiny --preset P` writes it. */
async function session(preset: string, component: string): Promise<ort.InferenceSession> {
  const dir = await ensureForgedModel(preset, 0);
  return ort.InferenceSession.create(join(dir, component, 'model.onnx'), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
}
const toOrt = (t: Tensor) => new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims as number[]);

type Meta = { name: string; type?: string; shape?: unknown[] };
/** Names, dtypes, ranks in order; `hidden_states.0…N` as one entry (the layer count is a size, not a convention). */
const signature = (s: ort.InferenceSession) => {
  const entries = (metas: readonly unknown[]) =>
    (metas as Meta[])
      .map(({ name, type, shape }) => JSON.stringify({ name: name.replace(/^hidden_states\.\d+$/, 'hidden_states.N'), type, rank: shape?.length }))
      .filter((e, i, all) => all.indexOf(e) === i);
  return { inputs: entries(s.inputMetadata), outputs: entries(s.outputMetadata) };
};

describe.each(CASES)('forged %s %s against PyTorch', (preset, component) => {
  it('every output within 1e-5 of the stock torch module holding the forged weights', { timeout: 60_000 }, async () => {
    const dir = join(TORCH_CHECKS, preset, component);
    const s = await session(preset, component);
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const f of readdirSync(dir).filter((n) => n.startsWith('in.'))) feeds[f.slice(3, -4)] = toOrt(readNpy(join(dir, f)));
      expect(Object.keys(feeds).sort()).toEqual([...s.inputNames].sort());
      const out = await s.run(feeds);
      const expected = readdirSync(dir).filter((n) => n.startsWith('out.')).map((f) => f.slice(4, -4));
      expect(expected.sort()).toEqual([...s.outputNames].sort());
      for (const name of expected) {
        const actual = out[name];
        const torch = readNpy(join(dir, `out.${name}.npy`));
        expect(actual.dims, name).toEqual(torch.dims);
        const err = relativeError(torch, { dtype: 'float32', dims: [...actual.dims], data: actual.data as Float32Array } as Tensor);
        expect(err, `${name} (regenerate with scripts/reference/forge-check-xl.py if the forge changed on purpose)`).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await s.release();
    }
  });

  it("has the diffusers-made export's signature: input/output names, dtypes, ranks, order", async () => {
    const ours = await session(preset, component);
    const theirs = await ort.InferenceSession.create(join(FAMILIES_REFERENCE, preset, 'model', component, 'model.onnx'));
    expect(signature(ours)).toEqual(signature(theirs));
    await Promise.all([ours.release(), theirs.release()]);
  });
});

const TRACES = Object.keys(CHECKED).flatMap((preset) =>
  readdirSync(join(TORCH_CHECKS, preset, 'traces')).map((name) => [preset, name] as const),
);

describe.each(TRACES)("forged %s folder in diffusers' own pipeline: generate reproduces the trace %s", (preset, name) => {
  it('every recorded tensor within 1e-5 of max(1, max|ref|) (guided noise predictions × guidance), pixels within ±1', { timeout: 60_000 }, async () => {
    const reference = new TraceReader(join(TORCH_CHECKS, preset, 'traces', name));
    const recorded = reference.manifest.pipeline as PipelineSettings;
    const out = mkdtempSync(join(tmpdir(), 'lockstep-forge-xl-trace-'));
    try {
      const settings: PipelineSettings = { ...recorded, negativePrompt: recorded.negativePrompt ?? '' };
      // Image-to-image: the input image travels with the trace (the manifest names it relative to the trace).
      if (recorded.image !== undefined) settings.image = join(reference.dir, recorded.image);
      await generate({ model: await ensureForgedModel(preset, 0), settings, imageOut: join(out, 'image.png'), traceDir: join(out, 'trace') });
      const ours = new TraceReader(join(out, 'trace'));
      expect(ours.timesteps()).toEqual(reference.manifest.timesteps);
      let compared = 0;
      for (const file of Object.keys(reference.manifest.files)) {
        const tensorName = file.replace(/\.npy$/, '');
        const expected = reference.require(tensorName);
        const actual = ours.get(tensorName);
        expect(actual, `lockstep did not record ${tensorName}`).toBeDefined();
        if (tensorName.endsWith('timestep') || tensorName.includes('_ids')) {
          expect(Array.from(actual!.data, Number), tensorName).toEqual(Array.from(expected.data, Number));
          continue;
        }
        const guided = /noise_pred$/.test(tensorName) && reference.has(tensorName.replace(/noise_pred$/, 'noise_pred_uncond'));
        expect(relativeError(expected, actual!), tensorName).toBeLessThanOrEqual(1e-5 * (guided ? recorded.guidanceScale : 1));
        compared++;
      }
      expect(compared).toBeGreaterThanOrEqual(6);
      const [want, got] = await Promise.all([readPng(join(reference.dir, 'final/image.png')), readPng(join(out, 'image.png'))]);
      expect([got.width, got.height]).toEqual([want.width, want.height]);
      let worst = 0;
      for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(want.data[i] - got.data[i]));
      expect(worst).toBeLessThanOrEqual(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
