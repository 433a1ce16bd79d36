import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAMILIES_REFERENCE } from '../testing/paths.ts';
import { ensureForgedModel, ensureTinyModel } from '../forge/cache.ts';
import { type ModelFootprint, checkFits, estimateRunMemory, formatBytes, readModelFootprint } from './memory-estimate.ts';

/** Stable Diffusion 1.5 as optimum exports it in float32 (sizes of runwayml/stable-diffusion-v1-5's ONNX files). */
const SD15: ModelFootprint = {
  dir: 'sd15',
  weightBytes: { text_encoder: 492_587_457, unet: 3_438_167_536, vae_decoder: 198_093_688 },
  vaeScaleFactor: 8,
  latentChannels: 4,
  unet: { blockOutChannels: [320, 640, 1280, 1280], attentionLevels: [true, true, true, false], heads: 8, layersPerBlock: 2 },
  vae: { blockOutChannels: [128, 256, 512, 512] },
  textEncoder: { positions: 77, hidden: 768, heads: 12 },
  elementBytes: 4,
};
const GiB = 2 ** 30;

describe('estimateRunMemory', () => {
  it('SD 1.5 at 512×512 with guidance: weights plus the 4096-token attention scores, a few GiB', () => {
    const e = estimateRunMemory(SD15, { height: 512, width: 512, guidanceScale: 7.5 });
    expect(e.weights.total).toBe(492_587_457 + 3_438_167_536 + 198_093_688);
    // 2 (batch) × 8 heads × 4096² tokens × 4 bytes, scores and softmax
    expect(e.activations.unet).toBeGreaterThan(2 * 2 * 8 * 4096 ** 2 * 4);
    expect(e.activations.unet).toBeLessThan(2.5 * GiB);
    // 128 channels at 512×512 dominate the VAE decoder
    expect(e.activations.vae_decoder).toBeGreaterThan(4 * 128 * 512 * 512 * 4);
    expect(e.activations.peak).toBe(e.activations.unet);
    expect(e.decodedImage).toBe(512 * 512 * 3 * 10);
    expect(e.total).toBe(e.weights.total + e.activations.peak + e.latents + e.decodedImage);
    expect(e.total / GiB).toBeGreaterThan(5);
    expect(e.total / GiB).toBeLessThan(8);
  });

  it('guidance doubles the U-Net batch; no guidance halves its activations', () => {
    const guided = estimateRunMemory(SD15, { height: 512, width: 512, guidanceScale: 7.5 });
    const plain = estimateRunMemory(SD15, { height: 512, width: 512, guidanceScale: 1 });
    expect(plain.activations.unet * 2).toBe(guided.activations.unet);
    expect(plain.activations.vae_decoder).toBe(guided.activations.vae_decoder);
  });

  it('grows with the square of the token count: 1024² needs far more than 512²', () => {
    const small = estimateRunMemory(SD15, { height: 512, width: 512, guidanceScale: 7.5 });
    const large = estimateRunMemory(SD15, { height: 1024, width: 1024, guidanceScale: 7.5 });
    expect(large.activations.unet / small.activations.unet).toBeGreaterThan(14);
  });

  it('reads a model folder: file sizes on disk and the configs', async () => {
    const fp = readModelFootprint(await ensureTinyModel(0));
    expect(fp.weightBytes.unet).toBeGreaterThan(1_000_000);
    expect(fp.unet.blockOutChannels).toEqual([32, 64]);
    expect(fp.unet.attentionLevels).toEqual([false, true]);
    expect(fp.vaeScaleFactor).toBe(8);
    expect(fp.textEncoder.hidden).toBe(32);
    const e = estimateRunMemory(fp, { height: 64, width: 64, guidanceScale: 7.5 });
    expect(e.total).toBeLessThan(100 * 2 ** 20);
  });
});

describe('estimateRunMemory: SDXL and image-to-image folders', () => {
  const bytesUnder = (dir: string) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !/\.(json|txt|md)$/i.test(e.name))
      .reduce((n, e) => n + statSync(join(e.parentPath ?? e.path, e.name)).size, 0);

  it("counts text_encoder_2 and the VAE encoder: weights are every component folder's bytes, each has its activations", () => {
    const model = join(FAMILIES_REFERENCE, 'sdxl', 'model');
    const fp = readModelFootprint(model);
    expect(Object.keys(fp.weightBytes).sort()).toEqual(['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder']);
    const components = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder'] as const;
    for (const c of components) expect(fp.weightBytes[c], c).toBe(bytesUnder(join(model, c)));
    expect(fp.textEncoder2?.hidden).toBe(JSON.parse(readFileSync(join(model, 'text_encoder_2', 'config.json'), 'utf8')).hidden_size);
    const e = estimateRunMemory(fp, { height: 64, width: 64, guidanceScale: 5 });
    expect(e.weights.total).toBe(components.reduce((n, c) => n + fp.weightBytes[c]!, 0));
    expect(e.activations.text_encoder_2).toBeGreaterThan(0);
    expect(e.activations.vae_encoder).toBe(e.activations.vae_decoder);
  });

  it("per-block head counts: each level's attention with its own heads (SDXL [5, 10, 20]), not the first for all", () => {
    const unet = { blockOutChannels: [320, 640, 1280], attentionLevels: [false, true, true], layersPerBlock: 2 };
    const at = (heads: number | number[]) => estimateRunMemory({ ...SD15, unet: { ...unet, heads } }, { height: 1024, width: 1024, guidanceScale: 5 }).activations.unet;
    // 1024² → 128² latents; level 1 (64² = 4096 tokens) has the largest score matrix: 10 heads there.
    expect(at([5, 10, 20])).toBe(at(10));
    expect(at([5, 10, 20])).toBeGreaterThan(at(5));
    const sdxlConfig = { ...SD15, unet: { ...unet, heads: 5 } };
    expect(estimateRunMemory(sdxlConfig, { height: 1024, width: 1024, guidanceScale: 5 }).activations.unet).toBeLessThan(at([5, 10, 20]));
  });

  it('reads per-block head counts from unet/config.json (the forged sdxl preset states a list)', async () => {
    const model = await ensureForgedModel('sdxl', 0);
    const config = JSON.parse(readFileSync(join(model, 'unet', 'config.json'), 'utf8'));
    const heads = config.num_attention_heads ?? config.attention_head_dim;
    expect(Array.isArray(heads)).toBe(true);
    expect(readModelFootprint(model).unet.heads).toEqual(heads);
  });
});

describe('checkFits', () => {
  const e = estimateRunMemory(SD15, { height: 512, width: 512, guidanceScale: 7.5 });
  it('passes what fits', () => expect(() => checkFits(e, e.total)).not.toThrow());
  it('refuses what does not, in one line naming the flags and the numbers', () => {
    expect(() => checkFits(e, 4 * GiB)).toThrow(/^--height 512 --width 512: this run needs an estimated 5\.95 GiB \(weights 3\.85 GiB, unet activations 2\.09 GiB, .*\) but 4\.00 GiB is available/);
  });
});

describe('formatBytes', () => {
  it.each([[512, '512 B'], [1536, '1.50 KiB'], [3 * GiB, '3.00 GiB'], [2 ** 70, '1.00 ZiB']])('%d → %s', (n, s) => {
    if (s.endsWith('ZiB')) expect(formatBytes(n)).toMatch(/e\+21 B$/);
    else expect(formatBytes(n)).toBe(s);
  });
});
