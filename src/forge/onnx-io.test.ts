import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { ensureTinyModel } from './cache.ts';
import { encodeModel } from './graph.ts';
import { loadModel, saveModel } from './onnx-io.ts';
import { uniformWeights } from './prng.ts';

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), 'lockstep-onnx-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function decode(path: string, latents: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  const out = await session.run({ latent_sample: new ort.Tensor('float32', latents, [1, 4, 8, 8]) });
  return out.sample.data as Float32Array;
}

describe('external data', () => {
  it('a model saved with external data loads in ORT from its path and computes the same', async () => {
    const inlinePath = join(await ensureTinyModel(0), 'vae_decoder', 'model.onnx');
    const externalPath = join(dir, 'vae', 'model.onnx');
    saveModel(loadModel(inlinePath), externalPath, { externalData: true });

    const sidePath = join(dir, 'vae', 'model.onnx_data');
    expect(existsSync(sidePath)).toBe(true);
    expect(statSync(externalPath).size).toBeLessThan(200_000);
    expect(statSync(sidePath).size).toBeGreaterThan(2_000_000);
    const stub = onnx.ModelProto.decode(readFileSync(externalPath));
    const conv = stub.graph!.initializer!.find((t) => t.name === 'decoder.conv_in.weight')!;
    expect(conv.dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
    expect(conv.externalData!.map((e) => e.key)).toEqual(['location', 'offset', 'length']);

    const latents = uniformWeights(1, 'latents', 4 * 8 * 8, 1.7);
    expect(Array.from(await decode(externalPath, latents))).toEqual(Array.from(await decode(inlinePath, latents)));
  });

  it('loading an external-data model and saving it inline gives the original bytes', async () => {
    const inlinePath = join(await ensureTinyModel(0), 'vae_decoder', 'model.onnx');
    const externalPath = join(dir, 'roundtrip', 'model.onnx');
    saveModel(loadModel(inlinePath), externalPath, { externalData: true });
    const again = join(dir, 'roundtrip', 'inline.onnx');
    saveModel(loadModel(externalPath), again);
    expect(readFileSync(again).equals(readFileSync(inlinePath))).toBe(true);
  });

  it('saving with external data leaves the model in memory unchanged', async () => {
    const model = loadModel(join(await ensureTinyModel(0), 'vae_decoder', 'model.onnx'));
    const before = encodeModel(model);
    saveModel(model, join(dir, 'unchanged', 'model.onnx'), { externalData: true });
    expect(Buffer.from(encodeModel(model)).equals(Buffer.from(before))).toBe(true);
  });

  it('names the file when the side file is missing or the model is unreadable', () => {
    const path = join(dir, 'missing', 'model.onnx');
    saveModel(loadModel(join(dir, 'vae', 'model.onnx')), path, { externalData: true });
    rmSync(join(dir, 'missing', 'model.onnx_data'));
    expect(() => loadModel(path)).toThrow(UsageError);
    expect(() => loadModel(path)).toThrow(/model\.onnx_data/);
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'not a model');
    expect(() => loadModel(junk)).toThrow(/junk\.onnx/);
  });
});
