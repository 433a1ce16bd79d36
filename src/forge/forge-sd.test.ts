/**
 * The sd and sd2 presets' builders against PyTorch itself: scripts/reference/forge-check.py loaded the
 * forged ONNX initializers by name into diffusers' AutoencoderKL (encoder + quant_conv, post_quant_conv +
 * decoder), UNet2DConditionModel and transformers' CLIPTextModel built from the forged config.json (strict
 * both ways) and stored one call's input and output; the forged graphs must give the same within 1e-5 of
 * max(1, max|torch|). Signatures are checked against the committed diffusers-made exports (names, dtypes,
 * ranks, order). The forged tokenizer/ gives the ids transformers' CLIPTokenizer gives (the pad convention).
 * And `generate` on a forged folder reproduces diffusers' unmodified pipeline run on the same weights.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultThresholds } from '../gates/index.ts';
import { recordedSettings } from '../lockstep/builds.ts';
import { runLockstep } from '../lockstep/engine.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { generate } from '../pipeline/generate.ts';
import { readPng } from '../pipeline/image.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { TraceReader } from '../trace/reader.ts';
import { readNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { FAMILIES_REFERENCE, REPO_ROOT } from '../testing/paths.ts';
import { relativeError } from '../testing/relative-error.ts';
import { loadClipTokenizer } from '../tokenizer/index.ts';
import { ensureForgedModel } from './cache.ts';
import { SD, SD2 } from './config.ts';
import { encodeModel, type ModelProto } from './graph.ts';
import { buildTextEncoder } from './text-encoder.ts';
import { buildUNet } from './unet.ts';
import { buildVaeDecoder } from './vae-decoder.ts';
import { buildVaeEncoder } from './vae-encoder.ts';

const TORCH_CHECKS = join(REPO_ROOT, 'test', 'reference', 'forge-sd');
const SEED = 0;
const BUILDS: Record<string, Record<string, () => ModelProto>> = {
  sd: {
    text_encoder: () => buildTextEncoder(SD.textEncoder, SEED),
    unet: () => buildUNet(SD.unet, SEED),
    vae_encoder: () => buildVaeEncoder(SD.vae, SEED),
    vae_decoder: () => buildVaeDecoder(SD.vae, SEED),
  },
  sd2: {
    text_encoder: () => buildTextEncoder(SD2.textEncoder, SEED),
    unet: () => buildUNet(SD2.unet, SEED),
  },
};
const CASES = Object.entries(BUILDS).flatMap(([preset, parts]) => Object.keys(parts).map((c) => [preset, c] as const));

const session = (model: ModelProto) =>
  ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
const toOrt = (t: Tensor) => new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims as number[]);

type Meta = { name: string; type?: string; shape?: unknown[] };
const signature = (s: ort.InferenceSession) => {
  const entries = (metas: readonly unknown[]) => (metas as Meta[]).map(({ name, type, shape }) => ({ name, type, rank: shape?.length }));
  return { inputs: entries(s.inputMetadata), outputs: entries(s.outputMetadata) };
};

describe.each(CASES)('forged %s %s against PyTorch', (preset, component) => {
  it('every output within 1e-5 of the stock torch module holding the forged weights', async () => {
    const dir = join(TORCH_CHECKS, preset, component);
    const s = await session(BUILDS[preset][component]());
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
        expect(err, `${name} (regenerate with scripts/reference/forge-check.py if the forge changed on purpose)`).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await s.release();
    }
  });

  it("has the diffusers-made export's signature: input/output names, dtypes, ranks, order", async () => {
    const ours = await session(BUILDS[preset][component]());
    const theirs = await ort.InferenceSession.create(join(FAMILIES_REFERENCE, preset, 'model', component, 'model.onnx'));
    expect(signature(ours)).toEqual(signature(theirs));
    await Promise.all([ours.release(), theirs.release()]);
  });
});

describe.each(['sd', 'sd2'])("the forged %s tokenizer/ against transformers' CLIPTokenizer", (preset) => {
  it('the same 77 ids for every stored prompt (sd2: OpenCLIP\'s pad "!" is cut out of the text as id 0)', async () => {
    const tokenizer = loadClipTokenizer(join(await ensureForgedModel(preset, SEED), 'tokenizer'));
    const cases = JSON.parse(readFileSync(join(TORCH_CHECKS, preset, 'tokenizer', 'cases.json'), 'utf8')) as { prompt: string; ids: number[] }[];
    expect(cases.length).toBeGreaterThanOrEqual(4);
    for (const c of cases) expect(tokenizer.encode(c.prompt).ids, c.prompt).toEqual(c.ids);
  }, 60_000);
});

const tmp = mkdtempSync(join(tmpdir(), 'lockstep-forge-sd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const RUNS = ['sd', 'sd2'].flatMap((preset) => readdirSync(join(TORCH_CHECKS, preset, 'traces')).map((t) => [preset, t] as const));

describe.each(RUNS)("generate on the forged %s folder reproduces diffusers' pipeline holding its weights (%s)", (preset, name) => {
  it('every recorded tensor within 1e-5 of max(1, max|ref|) (guided noise_pred × guidance), pixels within ±1', async () => {
    const reference = new TraceReader(join(TORCH_CHECKS, preset, 'traces', name));
    const recorded = reference.manifest.pipeline as PipelineSettings & { strength?: number };
    const settings: PipelineSettings = { ...recorded, negativePrompt: recorded.negativePrompt ?? '' };
    if (recorded.strength !== undefined) settings.image = join(TORCH_CHECKS, preset, 'input.png');
    const out = join(tmp, `${preset}-${name}`);
    await generate({ model: await ensureForgedModel(preset, SEED), settings, imageOut: join(out, 'image.png'), traceDir: join(out, 'trace') });
    const ours = new TraceReader(join(out, 'trace'));
    expect(ours.timesteps()).toEqual(reference.manifest.timesteps);
    let compared = 0;
    for (const file of Object.keys(reference.manifest.files)) {
      const tensorName = file.replace(/\.npy$/, '');
      const expected = reference.require(tensorName);
      const actual = ours.get(tensorName);
      expect(actual, `lockstep did not record ${tensorName}`).toBeDefined();
      if (tensorName.endsWith('timestep') || tensorName.includes('_ids')) {
        expect(Array.from(actual!.data as ArrayLike<unknown>, Number), tensorName).toEqual(Array.from(expected.data as ArrayLike<unknown>, Number));
        continue;
      }
      const guided = /noise_pred$/.test(tensorName) && reference.has(tensorName.replace(/noise_pred$/, 'noise_pred_uncond'));
      expect(relativeError(expected, actual!), tensorName).toBeLessThanOrEqual(1e-5 * (guided ? recorded.guidanceScale : 1));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(10);
    const [expectedPng, actualPng] = [await readPng(join(reference.dir, 'final/image.png')), await readPng(join(out, 'image.png'))];
    expect([actualPng.width, actualPng.height]).toEqual([expectedPng.width, expectedPng.height]);
    let worst = 0;
    for (let i = 0; i < expectedPng.data.length; i++) worst = Math.max(worst, Math.abs(expectedPng.data[i] - actualPng.data[i]));
    expect(worst).toBeLessThanOrEqual(1);
  }, 60_000);

  it("compare: diffusers' recorded run against the live forged folder passes, teacher-forced noisePred relL2 < 1e-5 at every step", async () => {
    const trace = join(TORCH_CHECKS, preset, 'traces', name);
    const settings = recordedSettings(trace) as PipelineSettings;
    const report = await runLockstep({
      reference: { path: trace, backend: DEFAULT_BACKEND },
      candidate: { path: await ensureForgedModel(preset, SEED), backend: DEFAULT_BACKEND },
      settings: { ...settings, negativePrompt: settings.negativePrompt ?? '' },
      thresholds: defaultThresholds(),
      reportDir: join(tmp, `${preset}-${name}-compare`),
    });
    expect(report.verdict).toBe('pass');
    expect(report.steps.length).toBe(new TraceReader(trace).timesteps().length);
    for (const step of report.steps) expect(step.teacherForced.noisePred!.relL2).toBeLessThan(1e-5);
  }, 60_000);
});
