/**
 * The JSON files of a forged pipeline folder, shaped like those diffusers and
 * transformers save (`save_pretrained`), stating the hyper-parameters actually
 * used. Keys are written in a fixed order (sorted, like diffusers) so the bytes
 * are reproducible.
 */
import type { PipelineConventions, TextEncoderConfig, UNetConfig, VaeDecoderConfig } from './config.ts';

const DIFFUSERS_VERSION = '0.27.2';

/**
 * `schedulerClass` is the `_class_name` of the scheduler config the folder ships. With a second text
 * encoder the index is StableDiffusionXLPipeline's: text_encoder_2/tokenizer_2, force_zeros_for_empty_prompt,
 * no safety checker.
 */
export function modelIndexJson(conventions: PipelineConventions, schedulerClass: string, textEncoder2 = false): Record<string, unknown> {
  const common = {
    _class_name: conventions.pipelineClass,
    _diffusers_version: DIFFUSERS_VERSION,
    feature_extractor: [null, null],
    image_encoder: [null, null],
  };
  const components = {
    scheduler: ['diffusers', schedulerClass],
    text_encoder: ['transformers', 'CLIPTextModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  };
  if (textEncoder2) {
    return sortedKeys({
      ...common,
      ...components,
      force_zeros_for_empty_prompt: true,
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      tokenizer_2: ['transformers', 'CLIPTokenizer'],
    });
  }
  return { ...common, requires_safety_checker: false, safety_checker: [null, null], ...components };
}

export function textEncoderJson(c: TextEncoderConfig): Record<string, unknown> {
  return {
    attention_dropout: 0.0,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    hidden_act: c.hiddenAct ?? 'quick_gelu',
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    layer_norm_eps: c.layerNormEps,
    max_position_embeddings: c.maxPositions,
    model_type: 'clip_text_model',
    num_attention_heads: c.heads,
    num_hidden_layers: c.layers,
    pad_token_id: c.eosTokenId,
    projection_dim: c.projectionDim ?? c.hiddenSize,
    vocab_size: c.vocabSize,
  };
}

export function unetJson(c: UNetConfig): Record<string, unknown> {
  return sortedKeys({
    ...familyKeys(c),
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: 'silu',
    attention_head_dim: c.attentionHeads,
    block_out_channels: c.blockOutChannels,
    center_input_sample: false,
    cross_attention_dim: c.crossAttentionDim,
    down_block_types: c.downBlockAttention.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    downsample_padding: 1,
    flip_sin_to_cos: c.flipSinToCos,
    freq_shift: c.freqShift,
    in_channels: c.inChannels,
    layers_per_block: c.layersPerBlock,
    mid_block_scale_factor: 1,
    mid_block_type: 'UNetMidBlock2DCrossAttn',
    norm_eps: c.normEps,
    norm_num_groups: c.normGroups,
    out_channels: c.outChannels,
    sample_size: c.sampleSize,
    time_embedding_type: 'positional',
    transformer_layers_per_block: c.transformerLayersPerBlock ?? 1,
    up_block_types: [...c.downBlockAttention].reverse().map((a) => (a ? 'CrossAttnUpBlock2D' : 'UpBlock2D')),
    upcast_attention: false,
    use_linear_projection: c.useLinearProjection ?? false,
  });
}

/** LCM's time_cond_proj_dim and SDXL's text_time keys, only when the U-Net has them (diffusers defaults them to null). */
function familyKeys(c: UNetConfig): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  if (c.timeCondProjDim !== undefined) keys.time_cond_proj_dim = c.timeCondProjDim;
  if (c.textTime) {
    keys.addition_embed_type = 'text_time';
    keys.addition_time_embed_dim = c.textTime.timeEmbedDim;
    keys.projection_class_embeddings_input_dim = c.textTime.textEmbedsDim + 6 * c.textTime.timeEmbedDim;
  }
  return keys;
}

function sortedKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function vaeJson(c: VaeDecoderConfig): Record<string, unknown> {
  return {
    _class_name: 'AutoencoderKL',
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: 'silu',
    block_out_channels: c.blockOutChannels,
    down_block_types: c.blockOutChannels.map(() => 'DownEncoderBlock2D'),
    in_channels: c.outChannels,
    latent_channels: c.latentChannels,
    layers_per_block: c.layersPerBlock,
    norm_num_groups: c.normGroups,
    out_channels: c.outChannels,
    sample_size: c.sampleSize,
    scaling_factor: c.scalingFactor,
    up_block_types: c.blockOutChannels.map(() => 'UpDecoderBlock2D'),
  };
}

/** One JSON file's text: two-space indent and a final newline, as `save_pretrained` writes. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

