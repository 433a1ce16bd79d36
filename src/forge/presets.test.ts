import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { TINY, type UNetConfig, type VaeDecoderConfig } from './config.ts';
import { encodeModel } from './graph.ts';
import { uniformWeights } from './prng.ts';
import { buildUNet } from './unet.ts';
import { buildVaeDecoder } from './vae-decoder.ts';

/** SD 1.5's U-Net topology (3 cross-attention down blocks + 1 plain, 768→here 48-wide text) at a small width. */
const SD15_TOPOLOGY_UNET: UNetConfig = {
  ...TINY.unet,
  blockOutChannels: [32, 64, 64, 64],
  downBlockAttention: [true, true, true, false],
  crossAttentionDim: 48,
};
const SD15_TOPOLOGY_VAE: VaeDecoderConfig = { ...TINY.vae, layersPerBlock: 2 };

const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
const floats = (dims: number[], name: string) =>
  new ort.Tensor('float32', uniformWeights(9, name, dims.reduce((a, b) => a * b, 1), 1.7), dims);

describe('presets are configs to the same builders', () => {
  it("a U-Net with SD 1.5's block layout builds and runs (4 levels, skips matched by channel count)", async () => {
    const s = await session(encodeModel(buildUNet(SD15_TOPOLOGY_UNET, 0)));
    const out = await s.run({
      sample: floats([2, 4, 16, 16], 'x'),
      timestep: new ort.Tensor('int64', BigInt64Array.of(500n), [1]),
      encoder_hidden_states: floats([2, 77, 48], 'text'),
    });
    expect(out.out_sample.dims).toEqual([2, 4, 16, 16]);
    expect((out.out_sample.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it("a VAE decoder with SD 1.5's three ResNets per level decodes ×8", async () => {
    const s = await session(encodeModel(buildVaeDecoder(SD15_TOPOLOGY_VAE, 0)));
    const out = await s.run({ latent_sample: floats([1, 4, 4, 6], 'z') });
    expect(out.sample.dims).toEqual([1, 3, 32, 48]);
  });
});
