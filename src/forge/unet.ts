/**
 * A conditional U-Net (diffusers' UNet2DConditionModel): sinusoidal timestep
 * embedding + MLP, conv_in, down blocks (ResNets, cross-attention transformers
 * where configured, strided-conv downsampling), a mid block (ResNet, transformer,
 * ResNet), up blocks that concatenate the skip connections (nearest ×2 + conv
 * upsampling), GroupNorm→SiLU→conv_out.
 *
 * Signature as optimum exports it: `sample` float32 [batch_size, num_channels,
 * height, width], `timestep` int64 [steps], `encoder_hidden_states` float32
 * [batch_size, sequence_length, text width], then SDXL's `text_embeds` float32
 * [batch_size, pooled width] and `time_ids` float32 [batch_size, 6]
 * (addition_embed_type text_time), then LCM's `timestep_cond` float32
 * [batch_size, time_cond_proj_dim] → `out_sample` like `sample`.
 */
import { GraphBuilder, int, type ModelProto } from './graph.ts';
import { conv2d, gemm, groupNorm, linear, silu, type Net } from './nn.ts';
import { downsample, resnet, transformer2d, upsample, type NormSpec } from './blocks.ts';
import type { UNetConfig } from './config.ts';

interface UNetContext {
  net: Net;
  cfg: UNetConfig;
  norm: NormSpec;
  /** SiLU of the time embedding, which every ResNet projects. */
  temb: { value: string; width: number };
  text: string;
}

/** A feature map and its channel count, as kept on the skip stack. */
interface Feature {
  value: string;
  channels: number;
}

export function buildUNet(cfg: UNetConfig, seed: number): ModelProto {
  const g = new GraphBuilder();
  const net: Net = { g, seed };
  const sample = g.input('sample', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['steps']);
  const text = g.input('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', cfg.crossAttentionDim]);
  const textTime = cfg.textTime && {
    textEmbeds: g.input('text_embeds', 'float32', ['batch_size', cfg.textTime.textEmbedsDim]),
    timeIds: g.input('time_ids', 'float32', ['batch_size', 6]),
  };
  const timestepCond = cfg.timeCondProjDim === undefined ? undefined : g.input('timestep_cond', 'float32', ['batch_size', cfg.timeCondProjDim]);

  const temb = timeEmbedding(net, cfg, { sample, timestep, timestepCond, textTime });
  const ctx: UNetContext = { net, cfg, norm: { groups: cfg.normGroups, eps: cfg.normEps }, temb, text };
  const first = cfg.blockOutChannels[0];
  const skips: Feature[] = [{ value: conv2d(net, 'conv_in', sample, cfg.inChannels, first), channels: first }];
  let h = downBlocks(ctx, skips);
  h = midBlock(ctx, h);
  h = upBlocks(ctx, h, skips);
  const normed = groupNorm(net, 'conv_norm_out', h.value, h.channels, cfg.normGroups, cfg.normEps);
  const out = conv2d(net, 'conv_out', silu(net, 'conv_act', normed), h.channels, cfg.outChannels);
  g.output('out_sample', 'float32', ['batch_size', 'num_channels', 'height', 'width'], out);
  return g.toModel();
}

interface TimeInputs {
  sample: string;
  timestep: string;
  timestepCond?: string;
  textTime?: { textEmbeds: string; timeIds: string };
}

/**
 * Timesteps (one shared value or one per row) broadcast to the batch, then
 * diffusers' Timesteps (flip_sin_to_cos: [cos, sin]) and TimestepEmbedding MLP
 * (LCM: plus cond_proj(timestep_cond) before linear_1; SDXL: plus
 * add_embedding of [text_embeds, features of time_ids] after linear_2).
 * Returns SiLU(embedding), which is what every ResNet's time_emb_proj consumes.
 */
function timeEmbedding(net: Net, cfg: UNetConfig, inputs: TimeInputs): { value: string; width: number } {
  const g = net.g;
  const dim = cfg.blockOutChannels[0];
  const width = 4 * dim;
  const batch = g.node('Slice', [g.node('Shape', [inputs.sample]), g.constInt64([0]), g.constInt64([1]), g.constInt64([0])]);
  const perRow = g.node('Expand', [inputs.timestep, batch]);
  const features = g.scope('time_proj', () => {
    const t = g.node('Cast', [g.node('Unsqueeze', [perRow, g.constInt64([1])])], { to: int(1) });
    return sinusoids(net, cfg, t, dim);
  });
  let emb = g.scope('time_embedding', () => {
    const x = inputs.timestepCond === undefined ? features : g.node('Add', [features, linear(net, 'cond_proj', inputs.timestepCond, cfg.timeCondProjDim!, dim, false)]);
    const h = silu(net, 'act', gemm(net, 'linear_1', x, dim, width));
    return gemm(net, 'linear_2', h, width, width);
  });
  if (inputs.textTime) emb = g.node('Add', [emb, textTimeEmbedding(net, cfg, inputs.textTime, width)]);
  // The ResNets share one activation of the embedding (diffusers applies the same SiLU in each).
  return { value: silu(net, 'time_act', emb), width };
}

/** get_timestep_embedding of `t` [N, 1] float32: [N, dim] = [cos, sin] (flip_sin_to_cos) or [sin, cos]. */
function sinusoids(net: Net, cfg: UNetConfig, t: string, dim: number): string {
  const g = net.g;
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / (half - cfg.freqShift)));
  const args = g.node('Mul', [t, g.constFloat(freqs, [1, half])]);
  const sin = g.node('Sin', [args]);
  const cos = g.node('Cos', [args]);
  return g.node('Concat', cfg.flipSinToCos ? [cos, sin] : [sin, cos], { axis: int(-1) });
}

/**
 * SDXL's get_aug_embed for text_time: add_time_proj(time_ids.flatten()) reshaped
 * to [batch, 6·timeEmbedDim], concatenated after text_embeds, through add_embedding.
 */
function textTimeEmbedding(net: Net, cfg: UNetConfig, inputs: { textEmbeds: string; timeIds: string }, width: number): string {
  const g = net.g;
  const { textEmbedsDim, timeEmbedDim } = cfg.textTime!;
  if (timeEmbedDim % 2 !== 0) throw new RangeError(`forge: textTime.timeEmbedDim must be even, got ${timeEmbedDim}`);
  const timeFeatures = g.scope('add_time_proj', () => {
    const flat = g.node('Reshape', [inputs.timeIds, g.constInt64([-1, 1])], { allowzero: int(0) });
    const perId = sinusoids(net, cfg, flat, timeEmbedDim);
    const batch = g.node('Slice', [g.node('Shape', [inputs.textEmbeds]), g.constInt64([0]), g.constInt64([1]), g.constInt64([0])]);
    const rows = g.node('Concat', [batch, g.constInt64([-1])], { axis: int(0) });
    return g.node('Reshape', [perId, rows], { allowzero: int(0) });
  });
  const joined = g.node('Concat', [inputs.textEmbeds, timeFeatures], { axis: int(-1) });
  return g.scope('add_embedding', () => {
    const h = silu(net, 'act', gemm(net, 'linear_1', joined, textEmbedsDim + 6 * timeEmbedDim, width));
    return gemm(net, 'linear_2', h, width, width);
  });
}

function downBlocks(ctx: UNetContext, skips: Feature[]): Feature {
  const { net, cfg } = ctx;
  let h = skips[0];
  cfg.blockOutChannels.forEach((outC, b) => {
    const isLast = b === cfg.blockOutChannels.length - 1;
    h = net.g.scope(`down_blocks.${b}`, () => {
      let x = h;
      for (let i = 0; i < cfg.layersPerBlock; i++) {
        x = { value: resnet(net, `resnets.${i}`, x.value, x.channels, outC, ctx.norm, ctx.temb), channels: outC };
        if (cfg.downBlockAttention[b]) x = { value: crossAttention(ctx, `attentions.${i}`, x, { down: b }), channels: outC };
        skips.push(x);
      }
      if (!isLast) {
        x = { value: downsample(net, 'downsamplers.0', x.value, outC), channels: outC };
        skips.push(x);
      }
      return x;
    });
  });
  return h;
}

function midBlock(ctx: UNetContext, h: Feature): Feature {
  const { net } = ctx;
  const c = h.channels;
  return net.g.scope('mid_block', () => {
    let x = resnet(net, 'resnets.0', h.value, c, c, ctx.norm, ctx.temb);
    x = crossAttention(ctx, 'attentions.0', { value: x, channels: c }, 'mid');
    return { value: resnet(net, 'resnets.1', x, c, c, ctx.norm, ctx.temb), channels: c };
  });
}

/** Up blocks mirror the down blocks; each ResNet takes the next skip (last in, first out) concatenated on channels. */
function upBlocks(ctx: UNetContext, h: Feature, skips: Feature[]): Feature {
  const { net, cfg } = ctx;
  const reversed = [...cfg.blockOutChannels].reverse();
  const attention = [...cfg.downBlockAttention].reverse();
  reversed.forEach((outC, b) => {
    const isLast = b === reversed.length - 1;
    h = net.g.scope(`up_blocks.${b}`, () => {
      let x = h;
      for (let i = 0; i <= cfg.layersPerBlock; i++) {
        const skip = skips.pop()!;
        const joined = net.g.node('Concat', [x.value, skip.value], { axis: int(1) });
        x = { value: resnet(net, `resnets.${i}`, joined, x.channels + skip.channels, outC, ctx.norm, ctx.temb), channels: outC };
        if (attention[b]) x = { value: crossAttention(ctx, `attentions.${i}`, x, { up: b }), channels: outC };
      }
      if (!isLast) x = { value: upsample(net, 'upsamplers.0', x.value, outC), channels: outC };
      return x;
    });
  });
  return h;
}

/** Where a transformer sits: per-block settings (heads, layers) are listed per down block; mid takes the last, up blocks the reverse. */
type BlockPlace = { down: number } | { up: number } | 'mid';

function crossAttention(ctx: UNetContext, name: string, x: Feature, place: BlockPlace): string {
  const { cfg } = ctx;
  return transformer2d(ctx.net, name, x.value, ctx.text, {
    channels: x.channels,
    heads: perBlock(cfg, cfg.attentionHeads, place),
    contextDim: cfg.crossAttentionDim,
    norm: { groups: cfg.normGroups, eps: 1e-6 },
    layers: perBlock(cfg, cfg.transformerLayersPerBlock ?? 1, place),
    linearProjection: cfg.useLinearProjection ?? false,
  });
}

function perBlock(cfg: UNetConfig, value: number | number[], place: BlockPlace): number {
  if (typeof value === 'number') return value;
  if (value.length !== cfg.blockOutChannels.length) {
    throw new RangeError(`forge: a per-block U-Net setting lists ${value.length} values for ${cfg.blockOutChannels.length} blocks`);
  }
  if (place === 'mid') return value[value.length - 1];
  return 'down' in place ? value[place.down] : value[value.length - 1 - place.up];
}
