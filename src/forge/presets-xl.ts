/**
 * The component configs of the `lcm` and `sdxl` presets: TINY's sizes with each
 * family's extra inputs, shaped like the real models (LCM_Dreamshaper_v7: an
 * SD 1.5 U-Net with `time_cond_proj_dim`; SDXL base: CLIP-L + OpenCLIP-bigG
 * with projection, text_time U-Net with linear projections, no attention at the
 * first level, more transformer layers deeper). Widths differ wherever two
 * sizes could be confused (a transposed weight must not fit).
 */
import { TINY, type TextEncoderConfig, type UNetConfig } from './config.ts';

/** LCM: SD 1.x-shaped; the guidance-scale embedding (64 wide) enters through time_embedding.cond_proj. */
export const LCM_UNET: UNetConfig = { ...TINY.unet, timeCondProjDim: 64 };

/** SDXL's text_encoder (CLIP ViT-L: quick_gelu, int32 ids), with every hidden state as an output. */
export const SDXL_TEXT_ENCODER: TextEncoderConfig = {
  ...TINY.textEncoder,
  hiddenSize: 16,
  heads: 2,
  layers: 3,
  outputHiddenStates: true,
};

/** SDXL's text_encoder_2 (OpenCLIP bigG: gelu, int64 ids, projected pooled output `text_embeds`). */
export const SDXL_TEXT_ENCODER_2: TextEncoderConfig = {
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
export const SDXL_UNET: UNetConfig = {
  ...TINY.unet,
  blockOutChannels: [32, 64],
  downBlockAttention: [false, true],
  attentionHeads: [2, 4],
  transformerLayersPerBlock: [1, 2],
  useLinearProjection: true,
  crossAttentionDim: SDXL_TEXT_ENCODER.hiddenSize + SDXL_TEXT_ENCODER_2.hiddenSize,
  textTime: { textEmbedsDim: SDXL_TEXT_ENCODER_2.projectionDim!, timeEmbedDim: 8 },
};
