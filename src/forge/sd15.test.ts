/**
 * The sd15 preset, checked without building it (building takes ~3.5 GB and a
 * minute): its config, and parameter counts computed from the config by
 * diffusers' formulas, which must equal the real SD 1.5 models' counts (and
 * the forged sd15 folder's initializers, measured: 123,060,480 / 859,520,964 / 49,490,199).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FORGE_VERSION } from './version.ts';
import { saveModel } from './onnx-io.ts';
import { forgePipeline } from './tiny.ts';
import { buildUNet } from './unet.ts';
import { PRESETS, SD15, TINY, type TextEncoderConfig, type UNetConfig, type VaeDecoderConfig } from './config.ts';

const linear = (i: number, o: number, bias = true) => i * o + (bias ? o : 0);
const conv = (i: number, o: number, k = 3) => i * o * k * k + o;
const norm = (c: number) => 2 * c;

function resnet(i: number, o: number, temb = 0): number {
  return norm(i) + conv(i, o) + (temb ? linear(temb, o) : 0) + norm(o) + conv(o, o) + (i === o ? 0 : conv(i, o, 1));
}

function transformer(c: number, ctx: number): number {
  const selfAttn = 3 * linear(c, c, false) + linear(c, c);
  const crossAttn = linear(c, c, false) + 2 * linear(ctx, c, false) + linear(c, c);
  const ff = linear(c, 8 * c) + linear(4 * c, c);
  return norm(c) + 2 * conv(c, c, 1) + 3 * norm(c) + selfAttn + crossAttn + ff;
}

function unetParams(u: UNetConfig): number {
  const ch = u.blockOutChannels;
  const temb = 4 * ch[0];
  let n = conv(u.inChannels, ch[0]) + linear(ch[0], temb) + linear(temb, temb);
  const skips = [ch[0]];
  ch.forEach((o, b) => {
    for (let l = 0; l < u.layersPerBlock; l++) {
      n += resnet(l === 0 ? (b === 0 ? ch[0] : ch[b - 1]) : o, o, temb) + (u.downBlockAttention[b] ? transformer(o, u.crossAttentionDim) : 0);
      skips.push(o);
    }
    if (b < ch.length - 1) (n += conv(o, o)), skips.push(o);
  });
  const top = ch[ch.length - 1];
  n += 2 * resnet(top, top, temb) + transformer(top, u.crossAttentionDim);
  const rev = [...ch].reverse();
  const upAttn = [...u.downBlockAttention].reverse();
  let prev = top;
  rev.forEach((o, b) => {
    for (let l = 0; l <= u.layersPerBlock; l++) {
      n += resnet(prev + skips.pop()!, o, temb) + (upAttn[b] ? transformer(o, u.crossAttentionDim) : 0);
      prev = o;
    }
    if (b < rev.length - 1) n += conv(o, o);
  });
  return n + norm(ch[0]) + conv(ch[0], u.outChannels);
}

function textEncoderParams(t: TextEncoderConfig): number {
  const layer = norm(t.hiddenSize) + 4 * linear(t.hiddenSize, t.hiddenSize) + norm(t.hiddenSize) + linear(t.hiddenSize, t.intermediateSize) + linear(t.intermediateSize, t.hiddenSize);
  return (t.vocabSize + t.maxPositions) * t.hiddenSize + t.layers * layer + norm(t.hiddenSize);
}

function vaeDecoderParams(v: VaeDecoderConfig): number {
  const rev = [...v.blockOutChannels].reverse();
  const top = rev[0];
  const attn = norm(top) + 4 * linear(top, top);
  let n = conv(v.latentChannels, v.latentChannels, 1) + conv(v.latentChannels, top) + 2 * resnet(top, top) + attn;
  let prev = top;
  rev.forEach((o, b) => {
    for (let l = 0; l <= v.layersPerBlock; l++) (n += resnet(prev, o)), (prev = o);
    if (b < rev.length - 1) n += conv(o, o);
  });
  return n + norm(rev[rev.length - 1]) + conv(rev[rev.length - 1], v.outChannels);
}

describe('the sd15 preset', () => {
  it('has SD 1.5 shapes and stores weights as external data', () => {
    expect([PRESETS.tiny, PRESETS.sd15]).toEqual([TINY, SD15]);
    expect(SD15.unet.blockOutChannels).toEqual([320, 640, 1280, 1280]);
    expect(SD15.unet.downBlockAttention).toEqual([true, true, true, false]);
    expect([SD15.unet.layersPerBlock, SD15.unet.attentionHeads, SD15.unet.crossAttentionDim, SD15.unet.sampleSize]).toEqual([2, 8, 768, 64]);
    expect(SD15.textEncoder).toMatchObject({ vocabSize: 49408, maxPositions: 77, hiddenSize: 768, layers: 12 });
    expect(SD15.vae.blockOutChannels).toEqual([128, 256, 512, 512]);
    expect(SD15.vae.sampleSize / 2 ** (SD15.vae.blockOutChannels.length - 1)).toBe(SD15.unet.sampleSize);
    expect(SD15.externalData).toBe(true);
  });

  it("has exactly SD 1.5's parameter counts", () => {
    expect(textEncoderParams(SD15.textEncoder)).toBe(123_060_480);
    expect(unetParams(SD15.unet)).toBe(859_520_964);
    expect(vaeDecoderParams(SD15.vae)).toBe(49_490_199);
    expect(unetParams(SD15.unet) * 4).toBeGreaterThan(2 ** 31); // past protobuf's 2 GB limit
  });
});

describe('forging with external data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-forge-ext-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams weights while building, writing the bytes saveModel writes from a whole model', () => {
    const config = { ...TINY, preset: 'tiny-external', externalData: true };
    forgePipeline({ outDir: join(dir, 'streamed'), seed: 4, config });
    const whole = buildUNet(TINY.unet, 4);
    whole.producerVersion = String(FORGE_VERSION);
    saveModel(whole, join(dir, 'whole', 'model.onnx'), { externalData: true });
    for (const f of ['model.onnx', 'model.onnx_data']) {
      expect(readFileSync(join(dir, 'streamed', 'unet', f)).equals(readFileSync(join(dir, 'whole', f)))).toBe(true);
    }
  });
});
