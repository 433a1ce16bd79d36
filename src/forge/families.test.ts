/**
 * The family presets of `lockstep forge tiny` (sd, sd2): reproducible, detected as their diffusers family,
 * their conventions stated in the folder's files, a self-`compare` passes (sd: image-to-image through the
 * forged VAE encoder). That `generate` on them reproduces diffusers' pipeline holding the same weights, and
 * each graph diffusers' module, is forge-sd.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultThresholds } from '../gates/index.ts';
import { runLockstep } from '../lockstep/engine.ts';
import { DEFAULT_BACKEND } from '../models/backend.ts';
import { encodePng } from '../pipeline/image.ts';
import { loadPipelineModel } from '../pipeline/load.ts';
import { DEFAULT_SETTINGS, type PipelineSettings } from '../pipeline/settings.ts';
import { ensureForgedModel, ensureTinyModel } from './cache.ts';
import { SD2 } from './config.ts';
import { UsageError } from '../errors.ts';
import { forgeTiny, hashTree } from './tiny.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lockstep-forge-families-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const dirs: Record<'tiny' | 'sd' | 'sd2', string> = { tiny: '', sd: '', sd2: '' };
beforeAll(async () => {
  dirs.tiny = await ensureTinyModel(0);
  dirs.sd = await ensureForgedModel('sd', 0);
  dirs.sd2 = await ensureForgedModel('sd2', 0);
}, 120_000);

const json = (dir: string, rel: string) => JSON.parse(readFileSync(join(dir, rel), 'utf8'));
const settings = (over: Partial<PipelineSettings>): PipelineSettings => ({
  ...DEFAULT_SETTINGS,
  prompt: 'a red cube on a table',
  seed: 3,
  steps: 3,
  height: 64,
  width: 64,
  ...over,
});

/** A 64×64 gradient PNG for image-to-image. */
async function inputImage(): Promise<string> {
  const size = 64;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.set([4 * x, 4 * y, 255 - 2 * (x + y)], 3 * (y * size + x));
  const path = join(tmp, 'input.png');
  writeFileSync(path, encodePng({ width: size, height: size, data }));
  return path;
}

describe('presets sd and sd2', () => {
  it('sd is tiny plus a VAE encoder: the same text encoder, U-Net and VAE decoder bytes for the same seed', () => {
    const [tiny, sd] = [hashTree(dirs.tiny), hashTree(dirs.sd)];
    for (const f of ['text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx', 'tokenizer/vocab.json']) expect(sd[f], f).toBe(tiny[f]);
    expect(Object.keys(sd).filter((f) => !(f in tiny))).toEqual(['vae_encoder/config.json', 'vae_encoder/model.onnx']);
    expect(json(dirs.sd, 'vae_encoder/config.json')).toEqual(json(dirs.sd, 'vae_decoder/config.json'));
    expect(json(dirs.sd, 'scheduler/scheduler_config.json')._class_name).toBe('DDIMScheduler');
    expect(json(dirs.sd, 'model_index.json').scheduler).toEqual(['diffusers', 'DDIMScheduler']);
  });

  it('sd2 states SD 2.x conventions in its files: gelu, linear projections, per-block heads, v-prediction, pad "!"', () => {
    expect(json(dirs.sd2, 'text_encoder/config.json').hidden_act).toBe('gelu');
    expect(json(dirs.sd2, 'unet/config.json')).toMatchObject({ use_linear_projection: true, attention_head_dim: [2, 4, 4] });
    expect(json(dirs.sd2, 'scheduler/scheduler_config.json')).toMatchObject({ _class_name: 'DDIMScheduler', prediction_type: 'v_prediction' });
    expect(json(dirs.sd2, 'tokenizer/special_tokens_map.json').pad_token).toBe('!');
    expect(json(dirs.sd2, 'forge.json')).toMatchObject({ preset: 'sd2', seed: 0, config: JSON.parse(JSON.stringify(SD2)) });
  });

  it.each(['sd', 'sd2'] as const)('%s is detected as the sd family (StableDiffusionPipeline) with a VAE encoder', async (preset) => {
    const model = await loadPipelineModel(dirs[preset]);
    try {
      expect(model.family.name).toBe('sd');
      expect(model.onnx.layout.onnx.vae_encoder).toBeDefined();
      expect(model.tokenizer.padId).toBe(preset === 'sd2' ? 0 : 49407); // "!" is id 0 in CLIP's vocabulary
      const vae = model.onnx.signatures().vae_encoder!;
      expect(vae.inputs.map((i) => [i.name, i.shape])).toEqual([['sample', ['batch_size', 'num_channels', 'height', 'width']]]);
      expect(vae.outputs.map((o) => [o.name, o.shape])).toEqual([['latent_parameters', ['batch_size', 8, 'height_latent', 'width_latent']]]);
    } finally {
      await model.onnx.release();
    }
  });

  // sd only: sd2's live folder is compared against diffusers' own recorded run in forge-sd.test.ts.
  it.each([['sd', { strength: 0.8 }]] as const)('%s: a self-compare (the live model against itself, image-to-image) passes every gate', async (preset, extra) => {
    const s = settings({ ...extra, image: await inputImage() });
    const report = await runLockstep({
      reference: { path: dirs[preset], backend: DEFAULT_BACKEND },
      candidate: { path: dirs[preset], backend: DEFAULT_BACKEND },
      settings: s,
      thresholds: defaultThresholds(),
      reportDir: join(tmp, `${preset}-self`),
    });
    expect(report.verdict).toBe('pass');
    expect(report.steps.length).toBeGreaterThan(0);
  }, 60_000);
});

describe('preset determinism', () => {
  it('sd2: the same seed forges identical bytes; another seed other weights in every ONNX file', () => {
    const forge = (seed: number, name: string) => forgeTiny({ outDir: join(tmp, name), seed, preset: 'sd2' }).outDir;
    const [a, b, c] = [forge(7, 'a'), forge(7, 'b'), forge(8, 'c')];
    const [ha, hb, hc] = [hashTree(a), hashTree(b), hashTree(c)];
    expect(hb).toEqual(ha);
    expect(readFileSync(join(b, 'forge.json')).equals(readFileSync(join(a, 'forge.json')))).toBe(true);
    const onnx = Object.keys(ha).filter((f) => f.endsWith('.onnx'));
    expect(onnx).toEqual(['text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx', 'vae_encoder/model.onnx']);
    for (const f of onnx) expect(hc[f], f).not.toBe(ha[f]);
  }, 60_000);

  it('an unknown preset is a UsageError naming the option and listing the presets, nothing written', () => {
    const outDir = join(tmp, 'unknown');
    expect(() => forgeTiny({ outDir, seed: 0, preset: 'sd3' })).toThrow(UsageError);
    expect(() => forgeTiny({ outDir, seed: 0, preset: 'sd3' })).toThrow(/^preset: expected one of tiny, sd, sd2, .*got "sd3"$/);
    expect(existsSync(outDir)).toBe(false);
  });
});
