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
import { TraceReader } from '../trace/reader.ts';
import { FAMILIES_REFERENCE, REPO_ROOT } from '../testing/paths.ts';
import { compareWithRecorded, expectGenerateReproduces, expectSessionMatchesTorch } from '../testing/diffusers-trace.ts';
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
      await expectSessionMatchesTorch(s, dir, 'scripts/reference/forge-check.py');
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
    const reference = join(TORCH_CHECKS, preset, 'traces', name);
    const image = (new TraceReader(reference).manifest.pipeline as { strength?: number }).strength !== undefined ? join(TORCH_CHECKS, preset, 'input.png') : undefined;
    await expectGenerateReproduces({ model: await ensureForgedModel(preset, SEED), reference, image, out: join(tmp, `${preset}-${name}`), minCompared: 10 });
  }, 60_000);

  it("compare: diffusers' recorded run against the live forged folder passes, teacher-forced noisePred relL2 < 1e-5 at every step", async () => {
    const trace = join(TORCH_CHECKS, preset, 'traces', name);
    const report = await compareWithRecorded(trace, await ensureForgedModel(preset, SEED), join(tmp, `${preset}-${name}-compare`));
    expect(report.verdict).toBe('pass');
    expect(report.steps.length).toBe(new TraceReader(trace).timesteps().length);
    for (const step of report.steps) expect(step.teacherForced.noisePred!.relL2).toBeLessThan(1e-5);
  }, 60_000);
});
