/**
 * Hyper-parameters of a forged pipeline. A preset is just a different value of
 * these types given to the same builders (`TINY`, `SD`, `SD2`, `LCM`, `SDXL`, `SD15`; `PRESETS` by name).
 *
 * Fields marked optional are what a family changes relative to SD 1.x; absent
 * means SD 1.x's choice. They are optional (not defaulted into every preset) so
 * that the `tiny` and `sd15` presets, which predate them, keep forging the same
 * bytes, forge.json included.
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
  /** MLP activation: CLIP's `quick_gelu` (default) or exact `gelu` (OpenCLIP: SD 2.x, SDXL's second encoder). */
  hiddenAct?: 'quick_gelu' | 'gelu';
  /** Also output `hidden_states.0` … `hidden_states.N` (embeddings, then each layer), as optimum exports SDXL's encoders. */
  outputHiddenStates?: boolean;
  /** CLIPTextModelWithProjection (SDXL's text_encoder_2): `text_embeds` = bias-free projection of the pooled state to this width. */
  projectionDim?: number;
  /** Dtype of `input_ids`: optimum exports text_encoder with int32 (default), text_encoder_2 with int64. */
  inputIdsDtype?: 'int32' | 'int64';
}

export interface UNetConfig {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  /** Per down block: whether it has cross-attention transformers (CrossAttnDownBlock2D). */
  downBlockAttention: boolean[];
  layersPerBlock: number;
  /**
   * diffusers' `attention_head_dim`, which UNet2DConditionModel uses as the number of heads:
   * one for every block, or one per down block (the mid block takes the last, up blocks the reverse).
   */
  attentionHeads: number | number[];
  /** Transformer2DModel's proj_in/proj_out as Linear on tokens instead of 1×1 convs (SD 2.x, SDXL). */
  useLinearProjection?: boolean;
  /** BasicTransformerBlocks per transformer: one count, or one per down block (mid: the last; up: reversed). Default 1. */
  transformerLayersPerBlock?: number | number[];
  /** LCM-distilled U-Nets: input `timestep_cond` [batch, this] through time_embedding.cond_proj. */
  timeCondProjDim?: number;
  /**
   * SDXL's `addition_embed_type: text_time`: inputs `text_embeds` [batch, textEmbedsDim] and `time_ids` [batch, 6];
   * time ids get sinusoidal features of `timeEmbedDim` each, concatenated with text_embeds into add_embedding.
   */
  textTime?: { textEmbedsDim: number; timeEmbedDim: number };
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

/** What the folder's non-ONNX files say: which diffusers pipeline it is and the conventions it follows. */
export interface PipelineConventions {
  /** model_index.json `_class_name`, which lockstep's family detection reads. */
  pipelineClass: string;
  /** The scheduler config shipped with the folder: `assets/<name>/scheduler_config.json`. */
  schedulerAsset: string;
  /** The tokenizer's pad token: CLIP's `<|endoftext|>` (SD 1.x) or OpenCLIP's `!` (SD 2.x). */
  padToken: string;
}

/** SD 1.5's: StableDiffusionPipeline, its PNDM scheduler config, CLIP's tokenizer. */
export const SD1_CONVENTIONS: PipelineConventions = {
  pipelineClass: 'StableDiffusionPipeline',
  schedulerAsset: 'sd15',
  padToken: '<|endoftext|>',
};

export interface PipelineConfig {
  /** Preset name, recorded in forge.json. */
  preset: string;
  /** Absent: SD1_CONVENTIONS. */
  conventions?: PipelineConventions;
  textEncoder: TextEncoderConfig;
  unet: UNetConfig;
  vae: VaeDecoderConfig;
  /** Also forge the VAE encoder (vae_encoder/, for image-to-image) from the same AutoencoderKL config. Absent: false. */
  vaeEncoder?: boolean;
  /** SDXL: a second text encoder (text_encoder_2/, with `projectionDim`) and tokenizer_2/ with OpenCLIP's pad "!". Absent: none. */
  textEncoder2?: TextEncoderConfig;
  /** Store weights in side files (needed once a component passes 2 GB). */
  externalData: boolean;
}

export function conventionsOf(config: PipelineConfig): PipelineConventions {
  return config.conventions ?? SD1_CONVENTIONS;
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

/**
 * Stable Diffusion 1.5's real shapes (runwayml/stable-diffusion-v1-5 configs):
 * ~123M text-encoder, ~860M U-Net, ~49M VAE-decoder parameters. The U-Net is
 * ~3.4 GB as float32, past protobuf's 2 GB limit, hence external data.
 */
export const SD15: PipelineConfig = {
  preset: 'sd15',
  textEncoder: { ...TINY.textEncoder, hiddenSize: 768, intermediateSize: 3072, layers: 12, heads: 12 },
  unet: {
    ...TINY.unet,
    blockOutChannels: [320, 640, 1280, 1280],
    downBlockAttention: [true, true, true, false],
    crossAttentionDim: 768,
    sampleSize: 64,
  },
  vae: { ...TINY.vae, blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, sampleSize: 512 },
  externalData: true,
};

/**
 * `sd`: SD 1.x — the tiny pipeline plus its VAE encoder, with a DDIM scheduler config (SD 1.5's betas;
 * chosen when lockstep's PNDM had no add_noise for image-to-image, and kept: the preset's checked runs use it). Same seed → the same text encoder, U-Net
 * and VAE decoder bytes as `tiny` (weights are keyed by parameter name): `tiny` is `sd` without vae_encoder/
 * and with SD 1.5's PNDM config, kept because its folder has exactly the layout of the reference tiny-sd.
 */
export const SD: PipelineConfig = {
  ...TINY,
  preset: 'sd',
  conventions: { ...SD1_CONVENTIONS, schedulerAsset: 'sd' },
  vaeEncoder: true,
};

/**
 * `sd2`: SD 2.x's conventions at tiny size — OpenCLIP text encoder (gelu, pad token "!"), U-Net with linear
 * projections and per-block head counts (SD 2.1: attention_head_dim [5, 10, 20, 20], 64 wide each; here 16
 * wide), cross-attention in all but the last down block, v-prediction DDIM scheduler config, VAE encoder.
 */
export const SD2: PipelineConfig = {
  preset: 'sd2',
  conventions: { pipelineClass: 'StableDiffusionPipeline', schedulerAsset: 'sd2', padToken: '!' },
  textEncoder: { ...TINY.textEncoder, hiddenAct: 'gelu' },
  unet: {
    ...TINY.unet,
    blockOutChannels: [32, 64, 64],
    downBlockAttention: [true, true, false],
    attentionHeads: [2, 4, 4],
    layersPerBlock: 1,
    useLinearProjection: true,
  },
  vae: TINY.vae,
  vaeEncoder: true,
  externalData: false,
};

/*
 * `lcm` and `sdxl`: TINY's sizes with each family's extra inputs, shaped like the real models
 * (LCM_Dreamshaper_v7: an SD 1.5 U-Net with `time_cond_proj_dim`; SDXL base: CLIP-L + OpenCLIP-bigG
 * with projection, a text_time U-Net with linear projections, no attention at the first level, more
 * transformer layers deeper). Widths differ wherever two sizes could be confused (a transposed
 * weight must not fit). scripts/reference/forge-check-xl.py checks them against diffusers/transformers.
 */

/** LCM: SD 1.x-shaped; the guidance-scale embedding (64 wide) enters through time_embedding.cond_proj. */
const LCM_UNET: UNetConfig = { ...TINY.unet, timeCondProjDim: 64 };

/** SDXL's text_encoder (CLIP ViT-L: quick_gelu, int32 ids), with every hidden state as an output. */
const SDXL_TEXT_ENCODER: TextEncoderConfig = {
  ...TINY.textEncoder,
  hiddenSize: 16,
  heads: 2,
  layers: 3,
  outputHiddenStates: true,
};

/** SDXL's text_encoder_2 (OpenCLIP bigG: gelu, int64 ids, projected pooled output `text_embeds`). */
const SDXL_TEXT_ENCODER_2: TextEncoderConfig = {
  ...TINY.textEncoder,
  hiddenSize: 32,
  intermediateSize: 64,
  heads: 4,
  layers: 3,
  hiddenAct: 'gelu',
  projectionDim: 40,
  inputIdsDtype: 'int64',
  outputHiddenStates: true,
};

/** SDXL's U-Net: text = both encoders' hidden states side by side (16 + 32), pooled = text_encoder_2's projection. */
const SDXL_UNET: UNetConfig = {
  ...TINY.unet,
  blockOutChannels: [32, 64],
  downBlockAttention: [false, true],
  attentionHeads: [2, 4],
  transformerLayersPerBlock: [1, 2],
  useLinearProjection: true,
  crossAttentionDim: SDXL_TEXT_ENCODER.hiddenSize + SDXL_TEXT_ENCODER_2.hiddenSize,
  textTime: { textEmbedsDim: SDXL_TEXT_ENCODER_2.projectionDim!, timeEmbedDim: 8 },
};

/** `lcm`: the `sd` preset (VAE encoder included) with the LCM U-Net and LCM_Dreamshaper_v7's LCMScheduler config. */
export const LCM: PipelineConfig = {
  ...SD,
  preset: 'lcm',
  conventions: { ...SD1_CONVENTIONS, pipelineClass: 'LatentConsistencyModelPipeline', schedulerAsset: 'lcm' },
  unet: LCM_UNET,
};

/**
 * `sdxl`: two text encoders (tokenizer_2 pads with "!"), the text_time U-Net, VAE scaling factor 0.13025,
 * SDXL base's EulerDiscreteScheduler config, force_zeros_for_empty_prompt, VAE encoder.
 */
export const SDXL: PipelineConfig = {
  preset: 'sdxl',
  conventions: { ...SD1_CONVENTIONS, pipelineClass: 'StableDiffusionXLPipeline', schedulerAsset: 'sdxl' },
  textEncoder: SDXL_TEXT_ENCODER,
  textEncoder2: SDXL_TEXT_ENCODER_2,
  unet: SDXL_UNET,
  vae: { ...TINY.vae, scalingFactor: 0.13025 },
  vaeEncoder: true,
  externalData: false,
};

/** Presets by the name `lockstep forge tiny --preset` takes. */
export const PRESETS: Readonly<Record<string, PipelineConfig>> = { tiny: TINY, sd: SD, sd2: SD2, lcm: LCM, sdxl: SDXL, sd15: SD15 };
