/**
 * `lockstep forge tiny --preset lcm|sdxl`: deterministic folders that lockstep
 * detects as their family and runs end to end — generate (LCM 1/2/4 steps), a
 * self-compare that passes, and `forge variant` on every component including
 * text_encoder_2 and vae_encoder. (That the graphs compute what diffusers computes,
 * and that diffusers' own pipelines run on these folders give lockstep's traces —
 * SDXL with and without a negative prompt and image-to-image, LCM — is forge-xl.test.ts.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultThresholds } from '../gates/index.ts';
import { runLockstep } from '../lockstep/engine.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { readModelLayout } from '../models/layout.ts';
import { detectFamily } from '../pipeline/family.ts';
import { generate } from '../pipeline/generate.ts';
import { DEFAULT_SETTINGS, type PipelineSettings } from '../pipeline/settings.ts';
import { toFloat64 } from '../tensor/tensor.ts';
import { COND, TEXT, stepName } from '../trace/names.ts';
import { TraceReader } from '../trace/reader.ts';
import { ensureForgedModel } from './cache.ts';
import { loadModel } from './onnx-io.ts';
import { hashTree, forgePipeline } from './tiny.ts';
import { PRESETS } from './config.ts';
import { forgeVariant } from './variants/forge-variant.ts';

let scratch: string;
const models: Record<string, string> = {};
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'lockstep-forge-xl-'));
  for (const preset of ['lcm', 'sdxl']) models[preset] = await ensureForgedModel(preset, 0);
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const settings = (over: Partial<PipelineSettings>): PipelineSettings => ({ ...DEFAULT_SETTINGS, prompt: 'a red cube on a table', seed: 7, ...over });
async function run(preset: string, over: Partial<PipelineSettings>, name: string) {
  const traceDir = join(scratch, name);
  await generate({ model: models[preset], settings: settings(over), imageOut: join(scratch, `${name}.png`), traceDir });
  return new TraceReader(traceDir);
}

describe.each(['lcm', 'sdxl'])('forge tiny --preset %s', (preset) => {
  it('is deterministic: the same seed gives the same bytes, another seed other weights', () => {
    const again = forgePipeline({ outDir: join(scratch, `${preset}-again`), seed: 0, config: PRESETS[preset] });
    expect(again.files).toEqual(hashTree(models[preset]));
    const other = forgePipeline({ outDir: join(scratch, `${preset}-seed1`), seed: 1, config: PRESETS[preset] });
    expect(other.files['unet/model.onnx']).not.toBe(again.files['unet/model.onnx']);
    expect(other.files['unet/config.json']).toBe(again.files['unet/config.json']);
  });

  it('is detected as its family, with a VAE encoder', () => {
    const layout = readModelLayout(models[preset]);
    const unetInputs = loadModel(layout.onnx.unet).graph!.input!.map((i) => i.name!);
    expect(detectFamily({ layout, unetInputs }).name).toBe(preset);
    // Without the model index, from the components and the U-Net's inputs alone.
    expect(detectFamily({ layout: { ...layout, modelIndex: {} }, unetInputs }).name).toBe(preset);
    expect(layout.onnx.vae_encoder).toBeDefined();
  });

  it('a self-compare (the model against itself) passes', async () => {
    const report = await runLockstep({
      reference: { path: models[preset], backend: DEFAULT_BACKEND },
      candidate: { path: models[preset], backend: DEFAULT_BACKEND },
      settings: settings({ steps: 2 }),
      thresholds: defaultThresholds(),
      reportDir: join(scratch, `${preset}-self`),
    });
    expect(report.verdict).toBe('pass');
    for (const step of report.steps) expect(step.teacherForced.noisePred!.relL2).toBe(0);
  });
});

describe('preset lcm', () => {
  it.each([1, 2, 4])('generate runs %i step(s) as LatentConsistencyModelPipeline: no unconditional batch, timestep_cond fed', async (steps) => {
    const trace = await run('lcm', { steps, guidanceScale: 8.5 }, `lcm-${steps}`);
    expect(trace.timesteps()).toHaveLength(steps);
    expect(trace.has(TEXT.uncondIds)).toBe(false);
    const cond = trace.require(COND.timestepCond);
    expect(cond.dims).toEqual([1, 64]);
    const last = trace.require(stepName(steps - 1, 'denoised'));
    expect(toFloat64(last).every(Number.isFinite)).toBe(true);
    expect(existsSync(join(scratch, `lcm-${steps}.png`))).toBe(true);
  });
});

describe('preset sdxl', () => {
  it('model_index.json: StableDiffusionXLPipeline with both encoders and force_zeros_for_empty_prompt; VAE scaling 0.13025; tokenizer_2 pads with "!"', () => {
    const index = JSON.parse(readFileSync(join(models.sdxl, 'model_index.json'), 'utf8'));
    expect(index._class_name).toBe('StableDiffusionXLPipeline');
    expect(index.force_zeros_for_empty_prompt).toBe(true);
    expect(index.text_encoder_2).toEqual(['transformers', 'CLIPTextModelWithProjection']);
    expect(index.tokenizer_2).toEqual(['transformers', 'CLIPTokenizer']);
    expect(readModelLayout(models.sdxl).vaeScalingFactor).toBe(0.13025);
    expect(JSON.parse(readFileSync(join(models.sdxl, 'tokenizer_2', 'special_tokens_map.json'), 'utf8')).pad_token).toBe('!');
  });
});

describe.each([
  ['sdxl', 'fp16'],
  ['lcm', 'int8-dynamic'],
] as const)('forge variant of preset %s: %s', (preset, kind) => {
  it('transforms every component it has (text_encoder_2 and vae_encoder included) and the variant still runs', async () => {
    const out = join(scratch, `${preset}-${kind}`);
    const record = await forgeVariant({ from: models[preset], kind, out });
    const expected = ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder', ...(preset === 'sdxl' ? ['text_encoder_2'] : [])];
    expect(Object.keys(record.components).sort()).toEqual(expected.sort());
    const traceDir = join(scratch, `${preset}-${kind}-trace`);
    await generate({ model: out, settings: settings({ steps: 2 }), traceDir });
    expect(toFloat64(new TraceReader(traceDir).require('final/latents')).every(Number.isFinite)).toBe(true);
  });
});
