/**
 * forgeVariant as a tool: every kind gives a folder that loads and runs, bytes
 * are reproducible, external data survives, the reference tiny-sd works, and
 * bad requests are UsageErrors that name the culprit.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../errors.ts';
import { compareTensors } from '../../metrics/index.ts';
import { DEFAULT_BACKEND } from '../../models/backend.ts';
import { OnnxStableDiffusion } from '../../models/sd-model.ts';
import { generate } from '../../pipeline/generate.ts';
import { type Tensor, float32, makeTensor } from '../../tensor/tensor.ts';
import { writeNpy } from '../../tensor/npy.ts';
import { TINY_SD_REFERENCE } from '../../testing/paths.ts';
import { ensureTinyModel } from '../cache.ts';
import { loadModel, saveModel } from '../onnx-io.ts';
import { hashTree } from '../tiny.ts';
import { uniformWeights } from '../prng.ts';
import { forgeVariant, type VariantRecord } from './forge-variant.ts';

const BACKEND = { ...DEFAULT_BACKEND, intraOpThreads: 1 };
let work: string;
let source: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lockstep-variant-io-'));
  source = await ensureTinyModel(0);
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const input = (dims: number[], name: string): Tensor<'float32'> => float32(dims, uniformWeights(7, name, dims.reduce((a, b) => a * b, 1), 1));

/** One U-Net call on fixed inputs (8×8 latents, batch 2). */
async function unetOut(dir: string, width: number): Promise<Tensor<'float32'>> {
  const model = await OnnxStableDiffusion.open(dir, BACKEND);
  try {
    const out = await model.predictNoise(input([2, 4, 8, 8], 'sample'), 500, input([2, 77, width], 'embeds'));
    return out.noisePred;
  } finally {
    await model.release();
  }
}

const variant = (dir: string): VariantRecord => JSON.parse(readFileSync(join(dir, 'variant.json'), 'utf8')) as VariantRecord;

describe('every kind loads and runs', () => {
  const kinds: [string, { layers?: string }][] = [
    ['fp16-keep-vae-fp32', {}],
    ['int8-weight', {}],
    ['int8-dynamic', {}],
    ['fault:softmax-fp16', {}],
    ['fault:groupnorm-eps', { layers: '/mid_block/resnets.0/norm1/' }],
  ];
  it.each(kinds)('%s changes the U-Net output a little and keeps it finite', async (kind, extra) => {
    const out = join(work, kind.replace(':', '_'));
    const record = await forgeVariant({ from: source, kind, out, ...extra });
    const m = compareTensors(await unetOut(source, 32), await unetOut(out, 32), 'noise_pred');
    expect(m.nanCount.candidate + m.infCount.candidate).toBe(0);
    expect(m.cosine).toBeLessThan(1);
    expect(m.cosine).toBeGreaterThan(0.9);
    expect(record.components.unet!.nodes).toBeGreaterThan(0);
    expect(variant(out).source.files['unet/model.onnx']).toBe(hashTree(source)['unet/model.onnx']);
  }, 30_000);

  it('fp16-keep-vae-fp32 copies the VAE decoder byte for byte and notes the CPU caveat', () => {
    const out = join(work, 'fp16-keep-vae-fp32');
    expect(hashTree(out)['vae_decoder/model.onnx']).toBe(hashTree(source)['vae_decoder/model.onnx']);
    expect(variant(out).components.vae_decoder).toBeUndefined();
    expect(variant(out).notes.join(' ')).toMatch(/understates/);
    expect(existsSync(join(out, 'forge.json'))).toBe(false);
  });

  it('--layers narrows fault:groupnorm-eps to one layer', () => {
    const c = variant(join(work, 'fault_groupnorm-eps')).components.unet!;
    expect(c.nodes).toBe(1);
    expect(Object.keys(c.details!.previousEpsilon as object)).toEqual(['/mid_block/resnets.0/norm1/InstanceNormalization']);
  });
});

describe('reproducibility and model formats', () => {
  it('forging twice gives identical bytes', async () => {
    const a = join(work, 'det-a');
    const b = join(work, 'det-b');
    for (const out of [a, b]) await forgeVariant({ from: source, kind: 'prune-30', out });
    expect(hashTree(b)).toEqual(hashTree(a));
    expect(readFileSync(join(b, 'variant.json'))).toEqual(readFileSync(join(a, 'variant.json')));
  }, 30_000);

  it('works on the torch-exported reference tiny-sd', async () => {
    const out = join(work, 'ref-int8');
    await forgeVariant({ from: TINY_SD_REFERENCE, kind: 'int8-weight', out });
    const m = compareTensors(await unetOut(TINY_SD_REFERENCE, 32), await unetOut(out, 32), 'noise_pred');
    expect(m.cosine).toBeGreaterThan(0.99);
    expect(m.cosine).toBeLessThan(1);
  }, 30_000);

  it('int8-qdq calibrates the reference U-Net from a diffusers trace (scalar int64 timesteps)', async () => {
    const out = join(work, 'ref-qdq');
    const trace = join(TINY_SD_REFERENCE, '..', 'traces', 'ddim_s10_seed42_g7.5_128x128');
    const record = await forgeVariant({ from: TINY_SD_REFERENCE, kind: 'int8-qdq', out, components: ['unet'], calibrate: [trace] });
    expect(record.components.unet!.details!.quantizedActivations).toBeGreaterThan(100);
    const m = compareTensors(await unetOut(TINY_SD_REFERENCE, 32), await unetOut(out, 32), 'noise_pred');
    expect(m.cosine).toBeGreaterThan(0.9);
    expect(m.cosine).toBeLessThan(1);
  }, 30_000);

  it('keeps external data external, under the same file name, with the same numbers as the inline model', async () => {
    const ext = join(work, 'external-src');
    cpSync(source, ext, { recursive: true });
    saveModel(loadModel(join(source, 'unet', 'model.onnx')), join(ext, 'unet', 'model.onnx'), { externalData: true });
    const [fromExt, fromInline] = [join(work, 'ext-int8'), join(work, 'inline-int8')];
    const record = await forgeVariant({ from: ext, kind: 'int8-weight', out: fromExt, components: ['unet'] });
    await forgeVariant({ from: source, kind: 'int8-weight', out: fromInline, components: ['unet'] });
    expect(record.components.unet!.externalData).toBe('model.onnx_data');
    expect(existsSync(join(fromExt, 'unet', 'model.onnx_data'))).toBe(true);
    const size = (dir: string) => readFileSync(join(dir, 'unet', 'model.onnx')).byteLength;
    expect(size(fromExt)).toBeLessThan(size(fromInline) / 2);
    const m = compareTensors(await unetOut(fromInline, 32), await unetOut(fromExt, 32), 'noise_pred');
    expect(m.maxAbs).toBe(0);
  }, 30_000);
});

describe('bad requests are usage errors naming the culprit', () => {
  const fails = (opts: Parameters<typeof forgeVariant>[0]) => forgeVariant(opts).then(() => null, (e: unknown) => e);
  it.each([
    ['bogus', undefined, /unknown variant kind 'bogus'/],
    ['prune-0', undefined, /1\.\.99/],
    ['fault:timestep-float', ['vae_decoder'], /fault:timestep-float does not apply to the vae_decoder/],
    ['fault:vae-fp16-overflow', ['unet'], /fault:vae-fp16-overflow does not apply to the unet/],
    ['fault:softmax-fp16', ['text_encoder', 'unet', 'vae_encoder'], /has no vae_encoder\/model\.onnx/],
    ['fault:softmax-fp16', ['text_encoder', 'unet', 'safety_checker'], /unknown component 'safety_checker'/],
    ['int8-qdq', undefined, /needs activation ranges.*lockstep generate --trace/],
  ] as const)('%s %s', async (kind, components, message) => {
    const err = await fails({ from: source, kind, out: join(work, 'bad'), components });
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect(existsSync(join(work, 'bad'))).toBe(false);
  });

  it('fault:softmax-fp16 on a graph without Softmax names kind and component', async () => {
    const noSoftmax = join(work, 'no-softmax');
    cpSync(source, noSoftmax, { recursive: true });
    const vae = loadModel(join(noSoftmax, 'vae_decoder', 'model.onnx'));
    vae.graph!.node = vae.graph!.node!.map((n) => (n.opType === 'Softmax' ? { ...n, opType: 'Identity', attribute: [] } : n));
    saveModel(vae, join(noSoftmax, 'vae_decoder', 'model.onnx'));
    const err = await fails({ from: noSoftmax, kind: 'fault:softmax-fp16', out: join(work, 'bad'), components: ['vae_decoder'] });
    expect((err as Error).message).toMatch(/fault:softmax-fp16 does not apply to the vae_decoder.*no float32 Softmax/);
  });

  it('a calibration trace of another model names the file and the mismatch', async () => {
    const trace = join(work, 'trace-768');
    const settings = { prompt: 'a cat', negativePrompt: '', seed: 1, noise: 'torch-cpu' as const, steps: 1, scheduler: 'ddim', guidanceScale: 7.5, height: 64, width: 64 };
    await generate({ model: source, settings, backend: BACKEND, imageOut: join(work, 't.png'), traceDir: trace });
    const wide = makeTensor('float32', [2, 77, 768], new Float32Array(2 * 77 * 768));
    writeNpy(join(trace, 'text', 'prompt_embeds.npy'), wide);
    const manifestFile = join(trace, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.files['text/prompt_embeds.npy'].shape = [2, 77, 768];
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const err = await fails({ from: source, kind: 'int8-qdq', out: join(work, 'bad'), components: ['unet'], calibrate: [trace] });
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/prompt_embeds\.npy: shape \[2,77,768\] does not fit the unet input 'encoder_hidden_states'/);
  }, 30_000);
});
