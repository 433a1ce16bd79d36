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
import type { PipelineSettings } from '../pipeline/settings.ts';
import { TraceReader } from '../trace/reader.ts';
import { FAMILIES_REFERENCE, REPO_ROOT } from '../testing/paths.ts';
import { expectGenerateReproduces, expectSessionMatchesTorch } from '../testing/diffusers-trace.ts';
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
      await expectSessionMatchesTorch(s, dir, 'scripts/reference/forge-check-xl.py');
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
    const reference = join(TORCH_CHECKS, preset, 'traces', name);
    const recorded = new TraceReader(reference).manifest.pipeline as PipelineSettings;
    const out = mkdtempSync(join(tmpdir(), 'lockstep-forge-xl-trace-'));
    try {
      // Image-to-image: the input image travels with the trace (the manifest names it relative to the trace).
      const image = recorded.image !== undefined ? join(reference, recorded.image) : undefined;
      await expectGenerateReproduces({ model: await ensureForgedModel(preset, 0), reference, image, out, minCompared: 6 });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
