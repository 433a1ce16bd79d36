/**
 * `sdxl-full`: the forge's `sdxl` preset at SDXL base 1.0's real sizes (its
 * unet/, text_encoder/, text_encoder_2/ and vae/ configs), float32 with external
 * data, for the bench part behind LOCKSTEP_BENCH_SDXL=1. Its parameter counts
 * are those scripts/reference/sdxl-params.py counts with diffusers (bench/sdxl-fit.ts).
 */
import { PRESETS, type PipelineConfig } from '../src/forge/config.ts';

const SDXL = PRESETS.sdxl;

export const SDXL_FULL: PipelineConfig = {
  ...SDXL,
  preset: 'sdxl-full',
  // CLIP ViT-L/14's text model (quick_gelu, int32 ids), every hidden state as an output.
  textEncoder: { ...SDXL.textEncoder, hiddenSize: 768, intermediateSize: 3072, layers: 12, heads: 12 },
  // OpenCLIP ViT-bigG/14's text model with its projection (gelu, int64 ids).
  textEncoder2: { ...SDXL.textEncoder2!, hiddenSize: 1280, intermediateSize: 5120, layers: 32, heads: 20, projectionDim: 1280 },
  unet: {
    ...SDXL.unet,
    blockOutChannels: [320, 640, 1280],
    downBlockAttention: [false, true, true],
    layersPerBlock: 2,
    attentionHeads: [5, 10, 20],
    transformerLayersPerBlock: [1, 2, 10],
    crossAttentionDim: 768 + 1280,
    textTime: { textEmbedsDim: 1280, timeEmbedDim: 256 },
    sampleSize: 128,
  },
  vae: { ...SDXL.vae, blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, sampleSize: 1024 },
  externalData: true,
};

/** The presets a bench forge job may name: the forge's own, and sdxl-full. */
export const BENCH_PRESETS: Readonly<Record<string, PipelineConfig>> = { ...PRESETS, 'sdxl-full': SDXL_FULL };
