/**
 * export-inputs / import-outputs for the families' other component calls: SDXL's
 * two text encoders (penultimate hidden states, pooled text_embeds) and the
 * image-to-image VAE encoder. The exported calls are answered with the
 * diffusers-built ONNX components in onnxruntime-node, as a port would answer
 * them; the imported trace must hold diffusers' own tensors (within 1e-5) and
 * `compare` must judge it — passing as is, failing on a perturbed answer.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureForgedModel } from '../forge/cache.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { OnnxComponent } from '../models/component.ts';
import { readNpy, writeNpy } from '../tensor/npy.ts';
import { type Tensor, float32, toFloat32 } from '../tensor/tensor.ts';
import { runCli as cli } from '../testing/cli.ts';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { relativeError } from '../testing/relative-error.ts';
import { type ExchangeManifest, readExchangeManifest } from './format.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-family-components-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const traceOf = (family: string, name: string) => join(FAMILIES_REFERENCE, family, 'traces', name);
const modelOf = (family: string) => join(FAMILIES_REFERENCE, family, 'model');
const ref = (trace: string, name: string) => toFloat32(readNpy(join(trace, `${name}.npy`)));

/**
 * A copy of an SDXL trace whose manifest does not state textEncoderWidths, as diffusers traces dumped
 * before dump_diffusers_trace.py wrote it (and other producers' traces): the widths are left to the runtime.
 */
function withoutWidths(trace: string, name: string): string {
  const copy = join(dir, `no-widths-${name}`);
  if (existsSync(copy)) return copy;
  cpSync(trace, copy, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
  delete manifest.textEncoderWidths;
  writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest));
  return copy;
}

async function exportCalls(trace: string, components: string, name: string): Promise<{ inputs: string; manifest: ExchangeManifest }> {
  const inputs = join(dir, `in-${name}`);
  const r = await cli(['export-inputs', '--trace', trace, '--out', inputs, '--component', components]);
  expect(r.code, r.stderr).toBe(0);
  return { inputs, manifest: readExchangeManifest(join(inputs, 'manifest.json')) };
}

/** The penultimate of optimum's hidden_states.0 … hidden_states.N. */
function penultimate(out: Record<string, Tensor>): Tensor {
  const last = Math.max(...Object.keys(out).flatMap((k) => /^hidden_states\.(\d+)$/.exec(k)?.[1] ?? []).map(Number));
  return out[`hidden_states.${last - 1}`];
}

/** Answers every call of the exchange with the family's ONNX components, as a port would. */
function answerWithOnnx(family: string, inputs: string, manifest: ExchangeManifest, outputs: string): Promise<void> {
  return answerWithModel(modelOf(family), inputs, manifest, outputs);
}

/** Answers the exported calls of a model folder's components (the forged presets have no FAMILIES_REFERENCE folder). */
async function answerWithModel(model: string, inputs: string, manifest: ExchangeManifest, outputs: string): Promise<void> {
  for (const component of manifest.components) {
    const onnx = await OnnxComponent.open(component, join(model, component, 'model.onnx'), DEFAULT_BACKEND);
    try {
      for (const call of manifest.calls.filter((c) => c.component === component)) {
        const out = await onnx.run(Object.fromEntries(Object.entries(call.inputs).map(([n, f]) => [n, readNpy(join(inputs, f.file))])));
        for (const [name, spec] of Object.entries(call.outputs)) writeNpy(join(outputs, spec.file), toFloat32(name === 'penultimate_hidden_state' ? penultimate(out) : out[name]));
      }
    } finally {
      await onnx.release();
    }
  }
}

async function importAndCompare(reference: string, inputs: string, outputs: string, name: string) {
  const trace = join(dir, `tf-${name}`);
  const imported = await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', trace]);
  expect(imported.code, imported.stderr).toBe(0);
  const report = join(dir, `rep-${name}`);
  const compared = await cli(['compare', '--reference', reference, '--candidate', trace, '--report', report, '--quiet']);
  const doc = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8'));
  const failed: string[] = doc.gates.filter((g: { passed: boolean }) => !g.passed).map((g: { id: string }) => g.id);
  return { trace, code: compared.code, doc, failed };
}

function perturb(file: string): void {
  const t = toFloat32(readNpy(file));
  writeNpy(file, float32(t.dims, t.data.map((x, i) => (i % 5 === 0 ? x + 0.25 : x))));
}

describe.each([
  ['euler_s4_negative', ['text uncond', 'text cond', 'text_2 uncond', 'text_2 cond']],
  ['euler_s4_no_negative', ['text cond', 'text_2 cond']],
] as const)('SDXL text encoders through the exchange (%s)', (name, roles) => {
  it('exports each prompt for both encoders; their ONNX answers import as diffusers\' prompt_embeds and text_embeds, and compare passes', async () => {
    // Without recorded widths: the answers' widths split prompt_embeds (the exact-width path: the forged-preset test below).
    const reference = withoutWidths(traceOf('sdxl', name), name);
    const { inputs, manifest } = await exportCalls(reference, 'text_encoder,text_encoder_2', `sdxl-${name}`);
    expect(manifest.format).toBe('lockstep.exchange/1.1');
    expect(manifest.calls.map((c) => c.role)).toEqual(roles);
    // An empty negative prompt is zeros in diffusers (force_zeros_for_empty_prompt): nothing to answer.
    expect(manifest.zeroNegative ?? false).toBe(name === 'euler_s4_no_negative');
    const second = manifest.calls.find((c) => c.role === 'text_2 cond')!;
    expect(second.inputs.input_ids).toEqual({ file: 'text_2/cond/input_ids.npy', dtype: 'int64', shape: [1, 77] });
    expect(second.outputs).toEqual({
      penultimate_hidden_state: { file: 'text_2/cond/penultimate_hidden_state.npy', dtype: 'float32', shape: [1, 77, -1] },
      text_embeds: { file: 'text_2/cond/text_embeds.npy', dtype: 'float32', shape: [1, 32] },
    });
    expect(readFileSync(join(inputs, 'README.md'), 'utf8')).toContain('the two encoders\' sizes must add up to 64');
    const outputs = join(dir, `out-sdxl-${name}`);
    await answerWithOnnx('sdxl', inputs, manifest, outputs);
    const { trace, code, doc, failed } = await importAndCompare(reference, inputs, outputs, `sdxl-${name}`);
    expect(relativeError(ref(reference, 'text/prompt_embeds'), ref(trace, 'text/prompt_embeds'))).toBeLessThanOrEqual(1e-5);
    expect(relativeError(ref(reference, 'cond/text_embeds'), ref(trace, 'cond/text_embeds'))).toBeLessThanOrEqual(1e-5);
    expect(JSON.parse(readFileSync(join(trace, 'manifest.json'), 'utf8')).textEncoderWidths).toEqual([32, 32]);
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    // Each encoder on its own (split at the answered widths) and the pooled embeddings.
    for (const c of ['textEncoder', 'textEncoder2', 'pooledEmbeds']) expect(doc.components[c].relL2, c).toBeLessThan(1e-5);
  });
});

describe('SDXL text encoders of different widths (forge tiny --preset sdxl: 16 and 32, pooled 40)', () => {
  it('a lockstep trace states the widths, so the answers\' shapes are exact; without them the answered widths split prompt_embeds', async () => {
    const model = await ensureForgedModel('sdxl', 0);
    const reference = join(dir, 'ref-forged-sdxl');
    const run = ['--prompt', 'a red cube', '--negative-prompt', 'blurry', '--seed', '5', '--steps', '2', '--height', '64', '--width', '64', '--quiet'];
    expect((await cli(['generate', '--model', model, '--out', join(dir, 'forged.png'), '--trace', reference, ...run])).code).toBe(0);
    const { inputs, manifest } = await exportCalls(reference, 'text_encoder,text_encoder_2', 'forged-sdxl');
    const shapes = manifest.calls.map((c) => `${c.role}: ${Object.values(c.outputs).map((o) => o.shape.join('x')).join(' ')}`);
    expect(shapes).toEqual(['text uncond: 1x77x16', 'text cond: 1x77x16', 'text_2 uncond: 1x77x32 1x40', 'text_2 cond: 1x77x32 1x40']);
    const outputs = join(dir, 'out-forged-sdxl');
    await answerWithModel(model, inputs, manifest, outputs);
    const { code, doc, failed } = await importAndCompare(reference, inputs, outputs, 'forged-sdxl');
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect([doc.components.textEncoder.count, doc.components.textEncoder2.count, doc.components.pooledEmbeds.count]).toEqual([2 * 77 * 16, 2 * 77 * 32, 2 * 40]);
    // The same reference without its widths (as diffusers records it): any width, split where the answers say.
    const unstated = join(dir, 'ref-forged-sdxl-unstated');
    cpSync(reference, unstated, { recursive: true });
    const m = JSON.parse(readFileSync(join(unstated, 'manifest.json'), 'utf8'));
    delete m.textEncoderWidths;
    writeFileSync(join(unstated, 'manifest.json'), JSON.stringify(m));
    const again = await exportCalls(unstated, 'text_encoder,text_encoder_2', 'forged-sdxl-unstated');
    expect(again.manifest.calls[0].outputs.penultimate_hidden_state.shape).toEqual([1, 77, -1]);
    const outputs2 = join(dir, 'out-forged-sdxl-unstated');
    await answerWithModel(model, again.inputs, again.manifest, outputs2);
    const imported = await importAndCompare(reference, again.inputs, outputs2, 'forged-sdxl-unstated');
    expect(JSON.parse(readFileSync(join(imported.trace, 'manifest.json'), 'utf8')).textEncoderWidths).toEqual([16, 32]);
    expect(imported.code).toBe(0);
    expect(imported.doc.components.textEncoder.count).toBe(2 * 77 * 16);
  });
});

// Perturbations on the encoded negative only (the zero negative's add nothing; suite time).
describe('SDXL wrong text answers (euler_s4_negative)', () => {
  const name = 'euler_s4_negative';
  const reference = traceOf('sdxl', name);

  it('a perturbed text_encoder_2 answer fails compare naming text_encoder_2, not text_encoder', async () => {
    const { inputs, manifest } = await exportCalls(reference, 'text_encoder_2', `sdxl-bad-${name}`);
    // Only the second encoder answered: the first encoder's part of prompt_embeds is the reference's own.
    expect(manifest.context?.prompt_embeds.file).toBe('text/prompt_embeds.npy');
    const outputs = join(dir, `out-sdxl-bad-${name}`);
    await answerWithOnnx('sdxl', inputs, manifest, outputs);
    perturb(join(outputs, 'text_2/cond/penultimate_hidden_state.npy'));
    const { trace, code, failed } = await importAndCompare(reference, inputs, outputs, `sdxl-bad-${name}`);
    const embeds = ref(trace, 'text/prompt_embeds');
    const expected = ref(reference, 'text/prompt_embeds');
    // The first encoder's 32 features of every row are untouched: only text_encoder_2's part differs.
    const firstPart = (t: Tensor<'float32'>) => float32([t.data.length / 64, 32], Array.from({ length: t.data.length / 2 }, (_, i) => t.data[Math.floor(i / 32) * 64 + (i % 32)]));
    expect(relativeError(firstPart(expected), firstPart(embeds))).toBe(0);
    expect(code).toBe(1);
    expect(failed.some((id) => id.startsWith('components.textEncoder2.'))).toBe(true);
    expect(failed.filter((id) => id.startsWith('components.textEncoder.') || id.startsWith('components.pooledEmbeds.'))).toEqual([]);
  });

  it('a perturbed pooled text_embeds answer fails compare naming the pooled embeddings', async () => {
    const { inputs, manifest } = await exportCalls(reference, 'text_encoder_2', `sdxl-pooled-${name}`);
    const outputs = join(dir, `out-sdxl-pooled-${name}`);
    await answerWithOnnx('sdxl', inputs, manifest, outputs);
    perturb(join(outputs, 'text_2/cond/text_embeds.npy'));
    const { code, failed } = await importAndCompare(reference, inputs, outputs, `sdxl-pooled-${name}`);
    expect(code).toBe(1);
    expect(failed.some((id) => id.startsWith('components.pooledEmbeds.'))).toBe(true);
    expect(failed.filter((id) => id.startsWith('components.textEncoder'))).toEqual([]);
  });
});

describe.each([
  ['sd', 'img2img_ddim_strength0.6'],
  ['sdxl', 'img2img_euler_strength0.8'],
] as const)('the image-to-image VAE encoder through the exchange (%s %s)', (family, name) => {
  const reference = traceOf(family, name);

  it('exports the preprocessed image; the ONNX encoder\'s answer imports as diffusers\' latent_parameters', async () => {
    const { inputs, manifest } = await exportCalls(reference, 'vae_encoder', `vae-${family}`);
    expect(manifest.calls).toEqual([
      {
        component: 'vae_encoder',
        role: 'image',
        inputs: { sample: { file: 'image/sample.npy', dtype: 'float32', shape: [1, 3, 64, 64] } },
        outputs: { latent_parameters: { file: 'image/latent_parameters.npy', dtype: 'float32', shape: [1, 8, 8, 8] } },
      },
    ]);
    const outputs = join(dir, `out-vae-${family}`);
    await answerWithOnnx(family, inputs, manifest, outputs);
    const trace = join(dir, `tf-vae-${family}`);
    expect((await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', trace])).code).toBe(0);
    expect(relativeError(ref(reference, 'image/latent_parameters'), ref(trace, 'image/latent_parameters'))).toBeLessThanOrEqual(1e-5);
    expect(relativeError(ref(reference, 'image/input'), ref(trace, 'image/input'))).toBe(0);
    // The input image stays where the reference keeps it (the imported trace holds no PNG).
    const image = JSON.parse(readFileSync(join(trace, 'manifest.json'), 'utf8')).pipeline.image;
    expect(image).toBe(join(reference, 'image/input.png'));
    expect(existsSync(image)).toBe(true);
    const { code, doc, failed } = await importAndCompare(reference, inputs, outputs, `vae-${family}`);
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect(doc.components.vaeEncoder.relL2).toBeLessThan(1e-5);
  });

  it('a perturbed VAE encoder answer fails compare naming the VAE encoder', async () => {
    const { inputs, manifest } = await exportCalls(reference, 'vae_encoder', `vae-bad-${family}`);
    const outputs = join(dir, `out-vae-bad-${family}`);
    await answerWithOnnx(family, inputs, manifest, outputs);
    perturb(join(outputs, 'image/latent_parameters.npy'));
    const { code, doc, failed } = await importAndCompare(reference, inputs, outputs, `vae-bad-${family}`);
    expect(code).toBe(1);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((id) => id.startsWith('components.vaeEncoder.'))).toBe(true);
    const divergence = doc.findings.find((f: { kind: string }) => f.kind === 'first-divergence');
    expect(divergence?.component).toBe('vaeEncoder');
  });
});

/** The sd diffusers trace without its moments: what a lockstep trace of a latent_sample export holds. */
function latentSampleReference(name: string): string {
  const reference = join(dir, name);
  cpSync(traceOf('sd', 'img2img_ddim_strength0.6'), reference, { recursive: true });
  rmSync(join(reference, 'image/latent_parameters.npy'));
  const m = JSON.parse(readFileSync(join(reference, 'manifest.json'), 'utf8'));
  delete m.files['image/latent_parameters.npy'];
  writeFileSync(join(reference, 'manifest.json'), JSON.stringify(m));
  return reference;
}

describe('a reference whose VAE encoder sampled inside its graph (latent_sample, older optimum exports)', () => {
  it('asks for latent_sample and imports it as image/latent_sample', async () => {
    const reference = latentSampleReference('ref-latent-sample');
    const { inputs, manifest } = await exportCalls(reference, 'vae_encoder', 'vae-sample');
    expect(manifest.calls[0].outputs).toEqual({ latent_sample: { file: 'image/latent_sample.npy', dtype: 'float32', shape: [1, 4, 8, 8] } });
    const outputs = join(dir, 'out-vae-sample');
    cpSync(join(reference, 'image/latent_sample.npy'), join(outputs, 'image/latent_sample.npy'));
    const { trace, code, doc } = await importAndCompare(reference, inputs, outputs, 'vae-sample');
    expect(relativeError(ref(reference, 'image/latent_sample'), ref(trace, 'image/latent_sample'))).toBe(0);
    expect(code).toBe(0);
    expect(doc.components.vaeEncoder.maxAbs).toBe(0);
  });
});

describe('a VAE encoder answer in the other convention than the reference recorded', () => {
  it('latent_sample where the manifest asks for latent_parameters: imported under its own name; compare says it was not checked', async () => {
    const reference = traceOf('sd', 'img2img_ddim_strength0.6');
    const { inputs } = await exportCalls(reference, 'vae_encoder', 'vae-other');
    const outputs = join(dir, 'out-vae-other');
    mkdirSync(join(outputs, 'image'), { recursive: true });
    cpSync(join(reference, 'image/latent_sample.npy'), join(outputs, 'image/latent_sample.npy'));
    const { trace, code, doc } = await importAndCompare(reference, inputs, outputs, 'vae-other');
    expect(existsSync(join(trace, 'image/latent_parameters.npy'))).toBe(false);
    expect(relativeError(ref(reference, 'image/latent_sample'), ref(trace, 'image/latent_sample'))).toBe(0);
    const messages: string[] = doc.findings.map((f: { message: string }) => f.message);
    expect(doc.components.vaeEncoder).toBeNull();
    expect(messages.some((m) => /VAE encoder was not checked.*latent_parameters.*latent_sample/.test(m))).toBe(true);
    // Only the encoder was answered, and it could not be compared: nothing was checked, which is not a pass.
    expect(messages.some((m) => /Nothing was gated/.test(m))).toBe(true);
    expect(code).toBe(1);
  });

  it('latent_parameters where the manifest asks for latent_sample: imported with 2C channels', async () => {
    const reference = latentSampleReference('ref-latent-sample-2');
    const { inputs, manifest } = await exportCalls(reference, 'vae_encoder', 'vae-other-rev');
    expect(Object.keys(manifest.calls[0].outputs)).toEqual(['latent_sample']);
    const outputs = join(dir, 'out-vae-other-rev');
    mkdirSync(join(outputs, 'image'), { recursive: true });
    cpSync(join(traceOf('sd', 'img2img_ddim_strength0.6'), 'image/latent_parameters.npy'), join(outputs, 'image/latent_parameters.npy'));
    const trace = join(dir, 'tf-vae-other-rev');
    expect((await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', trace])).code).toBe(0);
    expect(readNpy(join(trace, 'image/latent_parameters.npy')).dims).toEqual([1, 8, 8, 8]);
    expect(existsSync(join(trace, 'image/latent_sample.npy'))).toBe(false);
  });

  it('a latent_sample of the wrong channel count is refused naming the file and the shape its kind needs', async () => {
    const reference = traceOf('sd', 'img2img_ddim_strength0.6');
    const { inputs } = await exportCalls(reference, 'vae_encoder', 'vae-other-bad');
    const outputs = join(dir, 'out-vae-other-bad');
    mkdirSync(join(outputs, 'image'), { recursive: true });
    cpSync(join(reference, 'image/latent_parameters.npy'), join(outputs, 'image/latent_sample.npy')); // 8 channels, not 4
    const r = await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', join(dir, 'tf-vae-other-bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/image\/latent_sample\.npy: holds float32\[1,8,8,8\]; expected the vae_encoder latent_sample, float32\[1,4,8,8\]/);
  });
});

describe('LCM through the exchange (no classifier-free batch: guidance is timestep_cond)', () => {
  it('exports one prompt and unbatched U-Net calls; the ONNX answers import and compare passes teacher-forced', async () => {
    const reference = traceOf('lcm', 'lcm_s2_g8.5');
    const { inputs, manifest } = await exportCalls(reference, 'unet,text_encoder', 'lcm');
    expect(manifest.guided).toBe(false);
    expect(manifest.calls.map((c) => c.role)).toEqual(['step 0', 'step 1', 'text cond']);
    expect(manifest.calls[0].outputs.out_sample.shape).toEqual([1, 4, 8, 8]);
    const outputs = join(dir, 'out-lcm');
    await answerWithOnnx('lcm', inputs, manifest, outputs);
    const { code, doc, failed } = await importAndCompare(reference, inputs, outputs, 'lcm');
    expect(failed).toEqual([]);
    expect(code).toBe(0);
    expect(doc.steps).toHaveLength(2);
    for (const s of doc.steps) expect(s.teacherForced.noisePred.relL2, `step ${s.index}`).toBeLessThan(1e-5);
    expect(doc.components.textEncoder.relL2).toBeLessThan(1e-5);
  });
});

describe('bad family exchanges: one line naming the file, exit 2', () => {
  let sdxl: string;
  let inputs: string;
  let manifest: ExchangeManifest;
  beforeAll(async () => {
    sdxl = withoutWidths(traceOf('sdxl', 'euler_s4_negative'), 'errors');
    ({ inputs, manifest } = await exportCalls(sdxl, 'text_encoder,text_encoder_2', 'sdxl-errors'));
  });

  async function importWith(name: string, spoil: (outputs: string) => void) {
    const outputs = join(dir, `out-err-${name}`);
    await answerWithOnnx('sdxl', inputs, manifest, outputs);
    spoil(outputs);
    const out = join(dir, `tf-err-${name}`);
    const r = await cli(['import-outputs', '--inputs', inputs, '--outputs', outputs, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    return r.stderr;
  }

  it('a missing pooled text_embeds', async () => {
    const err = await importWith('missing', (o) => rmSync(join(o, 'text_2/uncond/text_embeds.npy')));
    expect(err).toMatch(/text_2\/uncond\/text_embeds\.npy: missing; expected the text_encoder_2 text_embeds, float32\[1,32\], answering text_2 uncond/);
  });

  it('hidden-state widths that do not add up to prompt_embeds', async () => {
    const err = await importWith('width', (o) => {
      writeNpy(join(o, 'text_2/uncond/penultimate_hidden_state.npy'), float32([1, 77, 40]));
      writeNpy(join(o, 'text_2/cond/penultimate_hidden_state.npy'), float32([1, 77, 40]));
    });
    expect(err).toMatch(/text_2\/uncond\/penultimate_hidden_state\.npy: 40 features, and .*text\/uncond\/penultimate_hidden_state\.npy 32; .* must add up to 64/);
  });

  it('an encoder answering two widths', async () => {
    const err = await importWith('two-widths', (o) => writeNpy(join(o, 'text/cond/penultimate_hidden_state.npy'), float32([1, 77, 16])));
    expect(err).toMatch(/text\/cond\/penultimate_hidden_state\.npy: 16 features, but .*text\/uncond\/penultimate_hidden_state\.npy has 32; one encoder answers one width/);
  });

  it('a wrong dtype and a wrong shape', async () => {
    let err = await importWith('dtype', (o) => writeNpy(join(o, 'text_2/cond/text_embeds.npy'), { dtype: 'int32', dims: [1, 32], data: new Int32Array(32) }));
    expect(err).toMatch(/text_2\/cond\/text_embeds\.npy: holds int32\[1,32\]; expected the text_encoder_2 text_embeds, float32\[1,32\]/);
    err = await importWith('shape', (o) => writeNpy(join(o, 'text/cond/penultimate_hidden_state.npy'), float32([77, 32])));
    expect(err).toMatch(/text\/cond\/penultimate_hidden_state\.npy: holds float32\[77,32\]; expected the text_encoder penultimate_hidden_state, float32\[1,77,any\]/);
  });

  it('a VAE encoder answer of the wrong shape', async () => {
    const { inputs: vaeInputs } = await exportCalls(traceOf('sd', 'img2img_ddim_strength0.8'), 'vae_encoder', 'vae-err');
    const outputs = join(dir, 'out-err-vae');
    writeNpy(join(outputs, 'image/latent_parameters.npy'), float32([1, 4, 8, 8]));
    const r = await cli(['import-outputs', '--inputs', vaeInputs, '--outputs', outputs, '--out', join(dir, 'tf-err-vae')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/image\/latent_parameters\.npy: holds float32\[1,4,8,8\]; expected the vae_encoder latent_parameters, float32\[1,8,8,8\], answering image/);
  });

  it('an --out folder of the user\'s is refused; a failed export leaves nothing; an earlier export is replaced', async () => {
    const mine = join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'mine');
    let r = await cli(['export-inputs', '--trace', sdxl, '--out', mine]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out .*mine: the folder exists and is not lockstep's \(no manifest\.json\); refusing to replace it/);
    expect(readdirSync(mine)).toEqual(['notes.txt']);
    const failed = join(dir, 'failed-export');
    r = await cli(['export-inputs', '--trace', traceOf('sd', 'ddim_s4'), '--out', failed, '--component', 'unet,text_encoder_2']);
    expect(r.code).toBe(2);
    expect(existsSync(failed)).toBe(false);
    expect(readdirSync(dir).filter((e) => e.startsWith('failed-export'))).toEqual([]);
    // Re-exporting over an export replaces it whole (a text-encoder export leaves no U-Net steps behind).
    r = await cli(['export-inputs', '--trace', sdxl, '--out', inputs, '--component', 'text_encoder']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(inputs).sort()).toEqual(['README.md', 'manifest.json', 'text']);
    ({ inputs, manifest } = await exportCalls(sdxl, 'text_encoder,text_encoder_2', 'sdxl-errors'));
  });

  it('components the trace cannot export', async () => {
    let r = await cli(['export-inputs', '--trace', traceOf('sd', 'ddim_s4'), '--out', join(dir, 'x-te2'), '--component', 'text_encoder_2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ddim_s4: text_encoder_2 is SDXL's second text encoder; this trace is not SDXL's/);
    r = await cli(['export-inputs', '--trace', traceOf('sd', 'ddim_s4'), '--out', join(dir, 'x-vae'), '--component', 'vae_encoder']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ddim_s4\/image\/input\.npy: missing; the VAE encoder runs only in image-to-image/);
  });
});
