/**
 * Hyper-parameters of a forged pipeline. A preset is just a different value of
 * these types given to the same builders (a future `sd15` preset: channels
 * 320/640/1280/1280, 768-wide text, 12 layers, external data).
 */

export interface TextEncoderConfig {
  vocabSize: number;
  maxPositions: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  layerNormEps: number;
  bosTokenId: number;
  eosTokenId: number;
}

export interface UNetConfig {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  /** Per down block: whether it has cross-attention transformers (CrossAttnDownBlock2D). */
  downBlockAttention: boolean[];
  layersPerBlock: number;
  /** diffusers' `attention_head_dim`, which UNet2DConditionModel uses as the number of heads. */
  attentionHeads: number;
  crossAttentionDim: number;
  normGroups: number;
  normEps: number;
  /** Sinusoidal timestep features; the time MLP is 4× the first block's width, as in diffusers. */
  flipSinToCos: boolean;
  freqShift: number;
  sampleSize: number;
}

export interface VaeDecoderConfig {
  latentChannels: number;
  outChannels: number;
  /** As diffusers lists them (encoder order); the decoder walks them reversed. Latent factor 2^(n−1). */
  blockOutChannels: number[];
  layersPerBlock: number;
  normGroups: number;
  scalingFactor: number;
  sampleSize: number;
}

export interface PipelineConfig {
  /** Preset name, recorded in forge.json. */
  preset: string;
  textEncoder: TextEncoderConfig;
  unet: UNetConfig;
  vae: VaeDecoderConfig;
  /** Store weights in side files (needed once a component passes 2 GB). */
  externalData: boolean;
}

/** The shapes of /work/shared/reference/tiny-sd, so forged and reference models are interchangeable. */
export const TINY: PipelineConfig = {
  preset: 'tiny',
  textEncoder: {
    vocabSize: 49408,
    maxPositions: 77,
    hiddenSize: 32,
    intermediateSize: 37,
    layers: 5,
    heads: 4,
    layerNormEps: 1e-5,
    bosTokenId: 49406,
    eosTokenId: 49407,
  },
  unet: {
    inChannels: 4,
    outChannels: 4,
    blockOutChannels: [32, 64],
    downBlockAttention: [false, true],
    layersPerBlock: 2,
    attentionHeads: 8,
    crossAttentionDim: 32,
    normGroups: 32,
    normEps: 1e-5,
    flipSinToCos: true,
    freqShift: 0,
    sampleSize: 16,
  },
  vae: {
    latentChannels: 4,
    outChannels: 3,
    blockOutChannels: [32, 64, 64, 64],
    layersPerBlock: 1,
    normGroups: 32,
    scalingFactor: 0.18215,
    sampleSize: 32,
  },
  externalData: false,
};
