/**
 * The family components as checks of their own (report 1.2): the VAE encoder
 * (image-to-image), SDXL's second text encoder and pooled embeddings. (That
 * diffusers' recorded traces against the live ONNX models fill them and pass
 * is asserted in families.test.ts, on the compare it already runs.) A
 * candidate whose VAE encoder or text_encoder_2 alone is quantized fails with
 * that component named, while the checks it does not touch stay at diffusers' own values.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgeVariant } from '../forge/variants/forge-variant.ts';
import { exportInputs } from '../exchange/export-inputs.ts';
import { importOutputs } from '../exchange/import-outputs.ts';
import { ensureForgedModel } from '../forge/cache.ts';
import { tensorProto, valueInfo } from '../forge/graph.ts';
import { loadModel, saveModel } from '../forge/onnx-io.ts';
import { compactTrace } from '../golden/compact.ts';
import { defaultThresholds } from '../gates/index.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { OnnxComponent } from '../models/component.ts';
import { generate } from '../pipeline/generate.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { terminalSummary } from '../report/terminal.ts';
import type { ReportDocument } from '../report/schema.ts';
import { readNpy, writeNpy } from '../tensor/npy.ts';
import { float32, toFloat32 } from '../tensor/tensor.ts';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { recordedSettings } from './builds.ts';
import { runLockstep } from './engine.ts';
import { compareWithRecorded } from '../testing/diffusers-trace.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `lockstep-${p}-`));
const trace = (family: string, name: string) => join(FAMILIES_REFERENCE, family, 'traces', name);
const model = (family: string) => join(FAMILIES_REFERENCE, family, 'model');

const compare = (reference: string, candidate: string) => compareWithRecorded(reference, candidate, tmp('components-report'));

const failingComponents = (r: ReportDocument) => [...new Set(r.gates.filter((g) => !g.passed && g.scope === 'component').map((g) => g.tensor))];

describe('sd image-to-image: the VAE encoder is a checked component', () => {
  const recorded = trace('sd', 'img2img_ddim_strength0.6');

  it('a candidate whose VAE encoder alone is int8-dynamic fails, the divergence located in the VAE encoder, before the steps', async () => {
    const candidate = join(tmp('vae-encoder-int8'), 'model');
    await forgeVariant({ from: model('sd'), kind: 'int8-dynamic', out: candidate, components: ['vae_encoder'] });
    const r = await compare(recorded, candidate);
    expect(r.verdict).toBe('fail');
    expect(failingComponents(r)).toEqual(['vaeEncoder']);
    expect(r.components.vaeEncoder!.relL2).toBeGreaterThan(1e-3);
    expect(r.components.textEncoder!.relL2).toBeLessThan(1e-5);
    // Teacher-forced on the reference's latents the untouched U-Net matches diffusers; its own trajectory starts elsewhere.
    for (const s of r.steps) expect(s.teacherForced.noisePred!.relL2).toBeLessThan(1e-4);
    const first = r.findings.find((f) => f.kind === 'first-divergence')!;
    expect(first.component).toBe('vaeEncoder');
    expect(first.message).toMatch(/^First divergence in the VAE encoder, before the U-Net's steps/);
    const summary = terminalSummary(r);
    expect(summary).toContain('first divergence in vaeEncoder (before step 0)');
    expect(summary).toMatch(/diagnosis: the VAE encoder alone is off/);
  });
});

describe('sdxl: text_encoder_2 and the pooled embeddings are checked components', () => {
  const recorded = trace('sdxl', 'img2img_euler_strength0.8');
  let text2Int8: string;

  beforeAll(async () => {
    text2Int8 = join(tmp('text-encoder-2-int8'), 'model');
    await forgeVariant({ from: model('sdxl'), kind: 'int8-dynamic', out: text2Int8, components: ['text_encoder_2'] });
  });

  it('a candidate whose text_encoder_2 alone is int8-dynamic fails with textEncoder2 (and its pooled output) named; the first encoder still matches', async () => {
    const r = await compare(recorded, text2Int8);
    expect(r.verdict).toBe('fail');
    expect(r.components.textEncoder!.relL2).toBeLessThan(1e-5);
    expect(r.components.vaeEncoder!.relL2).toBeLessThan(1e-5);
    expect(r.components.textEncoder2!.relL2).toBeGreaterThan(1e-3);
    expect(failingComponents(r)).toContain('textEncoder2');
    expect(failingComponents(r)).not.toContain('textEncoder');
    const first = r.findings.find((f) => f.kind === 'first-divergence')!;
    expect(first.component).toBe('textEncoder2');
    expect(first.tensor).toBe('components.textEncoder2');
    expect(terminalSummary(r)).toMatch(/diagnosis: the text encoder 2 alone is off/);
  });

  it("a candidate whose tokenizer_2 pads differently: its encoders are run on the reference's ids (empty negative: zeros) and match", async () => {
    const candidate = join(tmp('tokenizer-2-pad'), 'model');
    cpSync(model('sdxl'), candidate, { recursive: true });
    for (const file of ['special_tokens_map.json', 'tokenizer_config.json']) {
      const path = join(candidate, 'tokenizer_2', file);
      writeFileSync(path, readFileSync(path, 'utf8').replace('"pad_token": "!"', '"pad_token": "<|endoftext|>"'));
    }
    const r = await compare(trace('sdxl', 'euler_s4_no_negative'), candidate);
    for (const c of ['textEncoder', 'textEncoder2', 'pooledEmbeds'] as const) expect(r.components[c]!.relL2).toBeLessThan(1e-5);
    expect(r.components.textEncoder!.count).toBe(2 * 77 * 32); // the uncond half is force_zeros_for_empty_prompt's zeros
    expect(r.components.vaeEncoder).toBeNull(); // text-to-image
    // Its own embeddings differ (pad ids), so its own trajectory does; teacher-forced it is exact.
    for (const s of r.steps) expect(s.teacherForced.noisePred!.relL2).toBeLessThan(1e-5);
  });
});

describe('a golden (compacted trace) of an SDXL image-to-image run', () => {
  it('keeps what teacher-forcing and the component checks need: the live model passes against it with every check made', async () => {
    const recorded = trace('sdxl', 'img2img_euler_strength0.8');
    const golden = tmp('components-golden');
    const manifest = JSON.parse(readFileSync(join(recorded, 'manifest.json'), 'utf8'));
    const compact = compactTrace(recorded, golden, manifest.timesteps.length, 'float32');
    writeFileSync(join(golden, 'manifest.json'), JSON.stringify({ ...manifest, files: compact.files }));
    expect(Object.keys(compact.files)).toEqual(expect.arrayContaining(['cond/text_embeds.npy', 'cond/time_ids.npy', 'text/cond_ids_2.npy', 'image/input.npy', 'image/latent_parameters.npy']));
    expect(Object.keys(compact.files)).not.toContain('image/encoder_noise.npy');
    const r = await compare(golden, model('sdxl'));
    expect(r.verdict).toBe('pass');
    for (const c of ['textEncoder', 'textEncoder2', 'pooledEmbeds', 'vaeEncoder', 'vaeDecoder'] as const) expect(r.components[c]!.relL2).toBeLessThan(1e-5);
  });
});

describe('sdxl: two recorded builds', () => {
  /** A copy of a diffusers trace whose manifest does not state textEncoderWidths (as traces dumped before it was written). */
  function withoutWidths(name: string): string {
    const copy = join(tmp('components-no-widths'), name);
    cpSync(trace('sdxl', name), copy, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
    delete manifest.textEncoderWidths; // as a trace dumped before the key existed
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest));
    return copy;
  }

  it("a lockstep trace records textEncoderWidths, so a trace without them against it checks each encoder apart", async () => {
    const mine = join(tmp('components-lockstep-trace'), 'trace');
    const settings = recordedSettings(trace('sdxl', 'euler_s4_negative')) as PipelineSettings;
    await generate({ model: model('sdxl'), settings, traceDir: mine });
    expect(JSON.parse(readFileSync(join(mine, 'manifest.json'), 'utf8')).textEncoderWidths).toEqual([32, 32]);
    const r = await compare(withoutWidths('euler_s4_negative'), mine);
    expect(r.verdict).toBe('pass');
    for (const c of ['textEncoder', 'textEncoder2', 'pooledEmbeds'] as const) expect(r.components[c]!.relL2).toBeLessThan(1e-5);
    expect(r.components.textEncoder!.count).toBe(2 * 77 * 32);
  });

  it('without textEncoderWidths on either side, textEncoder compares the whole prompt_embeds and says so', async () => {
    const bare = withoutWidths('euler_s4_negative');
    const r = await compare(bare, bare);
    expect(r.components.textEncoder!.count).toBe(2 * 77 * 64);
    expect(r.components.textEncoder2).toBeNull();
    expect(r.components.pooledEmbeds!.maxAbs).toBe(0);
    expect(r.findings.some((f) => f.message.includes('components.textEncoder compares the whole prompt_embeds'))).toBe(true);
  });
});

describe('sdxl with text encoders of different widths (forge tiny --preset sdxl: 16 and 32)', () => {
  it('splits prompt_embeds at the first encoder\'s width; only text_encoder_2 made int8 fails only textEncoder2/pooledEmbeds', async () => {
    const forged = await ensureForgedModel('sdxl', 0);
    const candidate = join(tmp('forged-sdxl-te2'), 'model');
    await forgeVariant({ from: forged, kind: 'int8-dynamic', out: candidate, components: ['text_encoder_2'] });
    const r = await runLockstep({
      reference: { path: forged, backend: DEFAULT_BACKEND },
      candidate: { path: candidate, backend: DEFAULT_BACKEND },
      settings: { prompt: 'a red cube', negativePrompt: 'blurry', seed: 5, noise: 'torch-cpu', steps: 2, scheduler: 'euler', guidanceScale: 5, height: 64, width: 64 } as PipelineSettings,
      thresholds: defaultThresholds(),
      reportDir: tmp('forged-sdxl-report'),
    });
    expect(r.components.textEncoder!.count).toBe(2 * 77 * 16);
    expect(r.components.textEncoder2!.count).toBe(2 * 77 * 32);
    expect(r.components.textEncoder!.maxAbs).toBe(0); // the same ONNX file on both sides
    expect(r.components.textEncoder2!.maxAbs).toBeGreaterThan(0);
    expect(failingComponents(r)).toEqual(['textEncoder2', 'pooledEmbeds']);
    expect(r.findings.find((f) => f.kind === 'first-divergence')?.component).toBe('textEncoder2');
  });
});

describe('the VAE encoder of a runtime Node cannot drive (export-inputs → its answer → import-outputs)', () => {
  /** The exported VAE encoder call answered by the ONNX encoder, each 7th value scaled by `gain`. */
  async function importedAnswer(gain: number): Promise<string> {
    const work = tmp('components-exchange');
    const [inputs, outputs, imported] = ['in', 'out', 'trace'].map((d) => join(work, d));
    const recorded = trace('sd', 'img2img_ddim_strength0.6');
    const manifest = exportInputs({ trace: recorded, components: ['vae_encoder'], out: inputs });
    const encoder = await OnnxComponent.open('vae_encoder', join(model('sd'), 'vae_encoder', 'model.onnx'), DEFAULT_BACKEND);
    for (const call of manifest.calls) {
      const out = await encoder.run({ sample: readNpy(join(inputs, call.inputs.sample.file)) });
      const t = toFloat32(out.latent_parameters);
      writeNpy(join(outputs, call.outputs.latent_parameters.file), float32(t.dims, t.data.map((x, i) => (i % 7 === 0 ? x * gain : x))));
    }
    await encoder.release();
    importOutputs({ inputs, outputs, out: imported });
    return imported;
  }

  it('its answer is compared as components.vaeEncoder: the true answer passes, a 1 % error on every 7th value fails it by name', async () => {
    const recorded = trace('sd', 'img2img_ddim_strength0.6');
    const good = await compare(recorded, await importedAnswer(1));
    expect(good.components.vaeEncoder!.relL2).toBeLessThan(1e-5);
    expect(good.verdict).toBe('pass');
    const bad = await compare(recorded, await importedAnswer(1.01));
    expect(bad.verdict).toBe('fail');
    expect(bad.components.vaeEncoder!.relL2).toBeGreaterThan(1e-3);
    expect(bad.findings.find((f) => f.kind === 'first-divergence')?.component).toBe('vaeEncoder');
  });
});

/**
 * An encoder export in the older `latent_sample` convention. Stand-in: the distribution's mean, sliced
 * from latent_parameters and output as latent_sample (deterministic, unlike a real in-graph sampler, so
 * the engine's handling of the convention can be checked exactly).
 */
function withLatentSampleEncoder(from: string): string {
  const out = join(tmp('latent-sample-export'), 'model');
  cpSync(from, out, { recursive: true });
  const file = join(out, 'vae_encoder', 'model.onnx');
  const m = loadModel(file);
  const g = m.graph!;
  const channels = 4;
  g.initializer!.push(tensorProto('ls_starts', 'int64', [1], BigInt64Array.of(0n)), tensorProto('ls_ends', 'int64', [1], BigInt64Array.of(BigInt(channels))), tensorProto('ls_axes', 'int64', [1], BigInt64Array.of(1n)));
  g.node!.push({ opType: 'Slice', name: 'latent_sample_mean', input: ['latent_parameters', 'ls_starts', 'ls_ends', 'ls_axes'], output: ['latent_sample'] });
  g.output = [valueInfo('latent_sample', 'float32', ['batch', channels, 'height', 'width'])];
  saveModel(m, file);
  return out;
}

describe('a VAE encoder exported as latent_sample (older optimum)', () => {
  it('against a reference with latent_parameters: not compared (different quantities), a note says why', async () => {
    const r = await compare(trace('sd', 'img2img_ddim_strength0.6'), withLatentSampleEncoder(model('sd')));
    expect(r.components.vaeEncoder).toBeNull();
    expect(r.findings.some((f) => f.message.includes("the reference's encoder outputs latent_parameters, the candidate's latent_sample"))).toBe(true);
  });

  it('against the same convention: compared, with the note that in-graph samples are compared', async () => {
    const exported = withLatentSampleEncoder(model('sd'));
    const settings = recordedSettings(trace('sd', 'img2img_ddim_strength0.6')) as PipelineSettings;
    const r = await runLockstep({
      reference: { path: exported, backend: DEFAULT_BACKEND },
      candidate: { path: exported, backend: { ...DEFAULT_BACKEND, graphOptimizationLevel: 'disabled' } },
      settings: { ...settings, image: join(FAMILIES_REFERENCE, 'sd', 'input.png'), negativePrompt: settings.negativePrompt ?? '' },
      thresholds: defaultThresholds(),
      reportDir: tmp('latent-sample-report'),
    });
    expect(r.components.vaeEncoder!.count).toBe(4 * 8 * 8);
    expect(r.components.vaeEncoder!.relL2).toBeLessThan(1e-5);
    expect(r.findings.some((f) => f.message.includes('outputs latent_sample, drawn inside its graph'))).toBe(true);
  });
});
