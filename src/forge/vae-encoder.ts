/**
 * The encoder half of diffusers' AutoencoderKL (Encoder + quant_conv), as
 * optimum exports it: conv_in, down blocks of ResNets with a stride-2 conv after
 * all but the last (diffusers' downsample_padding=0: zero-pad right and bottom
 * by one, then the conv), a mid block (ResNet, single-head attention, ResNet),
 * GroupNorm→SiLU→conv_out to 2×latent channels (double_z: mean and log-variance),
 * then the 1×1 quant_conv.
 *
 * Signature as optimum exports it: `sample` float32 [batch_size, num_channels,
 * height, width] → `latent_parameters` float32 [batch_size, 2·latent channels,
 * height_latent, width_latent] (the moments; sampling is the pipeline's job).
 */
import { GraphBuilder, type ModelProto } from './graph.ts';
import { conv2d, groupNorm, silu, type Net } from './nn.ts';
import { downsample, resnet, spatialAttention, type NormSpec } from './blocks.ts';
import type { VaeDecoderConfig } from './config.ts';

const VAE_NORM_EPS = 1e-6;

export function buildVaeEncoder(cfg: VaeDecoderConfig, seed: number): ModelProto {
  const g = new GraphBuilder();
  const net: Net = { g, seed };
  const norm: NormSpec = { groups: cfg.normGroups, eps: VAE_NORM_EPS };
  const moments = 2 * cfg.latentChannels;
  const image = g.input('sample', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  const h = g.scope('encoder', () => {
    const levels = cfg.blockOutChannels;
    let x = conv2d(net, 'conv_in', image, cfg.outChannels, levels[0]);
    let channels = levels[0];
    levels.forEach((outC, b) => {
      x = g.scope(`down_blocks.${b}`, () => {
        let y = x;
        for (let i = 0; i < cfg.layersPerBlock; i++) {
          y = resnet(net, `resnets.${i}`, y, channels, outC, norm);
          channels = outC;
        }
        return b < levels.length - 1 ? downsample(net, 'downsamplers.0', y, outC, 'asymmetric') : y;
      });
    });
    x = g.scope('mid_block', () => {
      const r = resnet(net, 'resnets.0', x, channels, channels, norm);
      return resnet(net, 'resnets.1', spatialAttention(net, 'attentions.0', r, channels, norm), channels, channels, norm);
    });
    const normed = groupNorm(net, 'conv_norm_out', x, channels, cfg.normGroups, VAE_NORM_EPS);
    return conv2d(net, 'conv_out', silu(net, 'conv_act', normed), channels, moments);
  });
  const out = conv2d(net, 'quant_conv', h, moments, moments, { kernel: 1 });
  g.output('latent_parameters', 'float32', ['batch_size', moments, 'height_latent', 'width_latent'], out);
  return g.toModel();
}
