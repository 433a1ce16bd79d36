import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_SD_REFERENCE } from '../testing/paths.ts';
import { ensureTinyModel } from './cache.ts';
import { forgeTiny, hashTree } from './tiny.ts';
import { uniformWeights } from './prng.ts';
import { loadModel } from './onnx-io.ts';

const COMPONENTS = ['text_encoder', 'unet', 'vae_decoder'] as const;
const SESSION: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 };

type Meta = { name: string; type?: string; shape?: unknown[] };
const signature = (s: ort.InferenceSession) => ({
  inputs: (s.inputMetadata as readonly unknown[] as Meta[]).map(({ name, type, shape }) => ({ name, type, shape })),
  outputs: (s.outputMetadata as readonly unknown[] as Meta[]).map(({ name, type, shape }) => ({ name, type, shape })),
});

function tensor(dims: number[], seed: number, name: string, scale = 1): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return new ort.Tensor('float32', uniformWeights(seed, name, n, scale * Math.sqrt(3)), dims);
}
const allFinite = (a: Float32Array) => a.every(Number.isFinite);
const std = (a: Float32Array) => {
  let s = 0, s2 = 0;
  for (const v of a) { s += v; s2 += v * v; }
  return Math.sqrt(s2 / a.length - (s / a.length) ** 2);
};
/** ‖a − b‖ / ‖b‖ */
const relDiff = (a: Float32Array, b: Float32Array) => {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return Math.sqrt(d / n);
};

let modelDir: string;
const sessions: Partial<Record<(typeof COMPONENTS)[number], ort.InferenceSession>> = {};
beforeAll(async () => {
  modelDir = await ensureTinyModel(0);
  for (const c of COMPONENTS) sessions[c] = await ort.InferenceSession.create(join(modelDir, c, 'model.onnx'), SESSION);
}, 60_000);

describe.skipIf(!existsSync(TINY_SD_REFERENCE))('forged tiny pipeline vs reference tiny-sd', () => {
  it.each(COMPONENTS)('%s has the reference ONNX signature (names, dtypes, dynamic dims)', async (c) => {
    const reference = await ort.InferenceSession.create(join(TINY_SD_REFERENCE, c, 'model.onnx'), SESSION);
    expect(signature(sessions[c]!)).toEqual(signature(reference));
  });

  it.each(COMPONENTS)('%s has the reference architecture: the same count of each compute op', (c) => {
    // Shape plumbing (Shape/Gather/Concat…) differs from torch's export; the layers themselves must not.
    const COMPUTE = ['Conv', 'InstanceNormalization', 'Softmax', 'Resize', 'Gemm', 'MatMul', 'Erf', 'Sin', 'Cos', 'Sigmoid', 'ReduceMean', 'ArgMax'];
    const histogram = (path: string) => {
      const counts: Record<string, number> = {};
      for (const n of loadModel(path).graph!.node!) if (COMPUTE.includes(n.opType!)) counts[n.opType!] = (counts[n.opType!] ?? 0) + 1;
      return counts;
    };
    expect(histogram(join(modelDir, c, 'model.onnx'))).toEqual(histogram(join(TINY_SD_REFERENCE, c, 'model.onnx')));
  });

  it('has the reference folder layout and scheduler config', () => {
    const ours = Object.keys(hashTree(modelDir)).filter((p) => !p.endsWith('.onnx'));
    const theirs = Object.keys(hashTree(TINY_SD_REFERENCE)).filter((p) => !p.endsWith('.onnx'));
    expect(ours).toEqual(theirs);
    const rel = 'scheduler/scheduler_config.json';
    expect(readFileSync(join(modelDir, rel), 'utf8')).toBe(readFileSync(join(TINY_SD_REFERENCE, rel), 'utf8'));
    const unet = JSON.parse(readFileSync(join(modelDir, 'unet/config.json'), 'utf8'));
    const refUnet = JSON.parse(readFileSync(join(TINY_SD_REFERENCE, 'unet/config.json'), 'utf8'));
    for (const key of ['block_out_channels', 'down_block_types', 'up_block_types', 'cross_attention_dim', 'attention_head_dim', 'layers_per_block']) {
      expect(unet[key], key).toEqual(refUnet[key]);
    }
  });
});

describe('forged tiny pipeline runs', () => {
  it('text encoder: finite states of the right shapes; pooler = hidden state at the first end-of-text token', async () => {
    const ids = new Int32Array(2 * 77).fill(49407);
    ids.set([49406, 320, 1125, 539, 49407], 0); // eos at position 4
    ids.set([49406, 49407], 77); // empty prompt: eos at position 1
    const out = await sessions.text_encoder!.run({ input_ids: new ort.Tensor('int32', ids, [2, 77]) });
    const hidden = out.last_hidden_state.data as Float32Array;
    const pooled = out.pooler_output.data as Float32Array;
    expect(out.last_hidden_state.dims).toEqual([2, 77, 32]);
    expect(out.pooler_output.dims).toEqual([2, 32]);
    expect(allFinite(hidden) && allFinite(pooled)).toBe(true);
    expect(Array.from(pooled.subarray(0, 32))).toEqual(Array.from(hidden.subarray(4 * 32, 5 * 32)));
    expect(Array.from(pooled.subarray(32))).toEqual(Array.from(hidden.subarray(78 * 32, 79 * 32)));
    expect(relDiff(hidden.subarray(0, 77 * 32), hidden.subarray(77 * 32))).toBeGreaterThan(0.05);
  });

  it('text encoder is causal: a later token does not change earlier positions', async () => {
    const a = new Int32Array(77).fill(49407);
    a.set([49406, 320, 1125]);
    const b = a.slice();
    b[2] = 4558;
    const run = async (ids: Int32Array) =>
      (await sessions.text_encoder!.run({ input_ids: new ort.Tensor('int32', ids, [1, 77]) })).last_hidden_state.data as Float32Array;
    const [ha, hb] = [await run(a), await run(b)];
    expect(Array.from(hb.subarray(0, 64))).toEqual(Array.from(ha.subarray(0, 64)));
    expect(relDiff(hb.subarray(64, 96), ha.subarray(64, 96))).toBeGreaterThan(0.05);
  });

  async function unet(sample: ort.Tensor, t: number, text: ort.Tensor): Promise<Float32Array> {
    const timestep = new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1]);
    const out = await sessions.unet!.run({ sample, timestep, encoder_hidden_states: text });
    expect(out.out_sample.dims).toEqual(sample.dims);
    return out.out_sample.data as Float32Array;
  }

  it('U-Net at batch 2, 16×16: finite, non-trivial, depends on timestep and text', async () => {
    const sample = tensor([2, 4, 16, 16], 1, 'latents');
    const text = tensor([2, 77, 32], 1, 'text');
    const base = await unet(sample, 981, text);
    expect(allFinite(base)).toBe(true);
    expect(std(base)).toBeGreaterThan(0.1);
    expect(relDiff(await unet(sample, 1, text), base)).toBeGreaterThan(0.05);
    expect(relDiff(await unet(sample, 981, tensor([2, 77, 32], 2, 'text')), base)).toBeGreaterThan(0.05);
  });

  it('U-Net accepts other batch sizes and latent sizes (dynamic dims)', async () => {
    const out = await unet(tensor([1, 4, 8, 24], 3, 'latents'), 500, tensor([1, 77, 32], 3, 'text'));
    expect(out.length).toBe(4 * 8 * 24);
    expect(allFinite(out)).toBe(true);
  });

  it('stays healthy over 50 DDIM steps with guidance 7.5 (no explosion or NaN)', async () => {
    const alphasCumprod = sd15AlphasCumprod();
    const text = tensor([2, 77, 32], 4, 'text');
    let x = uniformWeights(5, 'noise', 4 * 16 * 16, Math.sqrt(3));
    const timesteps = Array.from({ length: 50 }, (_, i) => 981 - 20 * i);
    for (const [i, t] of timesteps.entries()) {
      const batch = new Float32Array(2 * x.length);
      batch.set(x);
      batch.set(x, x.length);
      const eps = await unet(new ort.Tensor('float32', batch, [2, 4, 16, 16]), t, text);
      const aT = alphasCumprod[t];
      const aPrev = i + 1 < timesteps.length ? alphasCumprod[timesteps[i + 1]] : alphasCumprod[0];
      x = x.map((xi, k) => {
        const e = eps[k] + 7.5 * (eps[x.length + k] - eps[k]);
        const x0 = (xi - Math.sqrt(1 - aT) * e) / Math.sqrt(aT);
        return Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * e;
      });
      expect(allFinite(x), `step ${i}`).toBe(true);
    }
    expect(Math.max(...x.map(Math.abs))).toBeLessThan(1e3);
  });

  it('VAE decoder: 16×16 latents → finite 128×128 image with variation', async () => {
    const out = await sessions.vae_decoder!.run({ latent_sample: tensor([1, 4, 16, 16], 6, 'latents') });
    expect(out.sample.dims).toEqual([1, 3, 128, 128]);
    const image = out.sample.data as Float32Array;
    expect(allFinite(image)).toBe(true);
    expect(std(image)).toBeGreaterThan(0.05);
  });
});

describe('determinism', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const forge = (seed: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-forge-'));
    dirs.push(dir);
    forgeTiny({ outDir: dir, seed });
    return dir;
  };

  it('the same seed forges identical bytes, file by file; another seed differs', () => {
    const [a, b, c] = [forge(7), forge(7), forge(8)];
    const files = Object.keys(hashTree(a));
    expect(Object.keys(hashTree(b))).toEqual(files);
    for (const f of [...files, 'forge.json']) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
    for (const c2 of COMPONENTS) {
      expect(readFileSync(join(c, c2, 'model.onnx')).equals(readFileSync(join(a, c2, 'model.onnx'))), c2).toBe(false);
    }
  }, 60_000);

  it('forge.json records the seed and every file hash', () => {
    const provenance = JSON.parse(readFileSync(join(modelDir, 'forge.json'), 'utf8'));
    expect(provenance.seed).toBe(0);
    expect(provenance.files).toEqual(hashTree(modelDir));
  });
});

/** SD's scaled-linear schedule: betas = linspace(√0.00085, √0.012, 1000)². */
function sd15AlphasCumprod(): number[] {
  const out: number[] = [];
  let prod = 1;
  for (let i = 0; i < 1000; i++) {
    const b = (Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * i) / 999) ** 2;
    prod *= 1 - b;
    out.push(prod);
  }
  return out;
}
