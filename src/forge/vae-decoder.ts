/**
 * The decoder half of diffusers' AutoencoderKL: post_quant_conv, conv_in, a mid
 * block (ResNet, single-head attention, ResNet), up blocks of ResNets with
 * nearest ×2 upsampling after all but the last (latent factor 2^(levels−1)),
 * GroupNorm→SiLU→conv_out.
 *
 * Signature as optimum exports it: `latent_sample` float32 [batch_size,
 * num_channels_latent, height_latent, width_latent] → `sample` float32
 * [batch_size, num_channels, height, width]. Dividing by the scaling factor is
 * the pipeline's job.
 */
import { GraphBuilder, type ModelProto } from './graph.ts';
import { conv2d, groupNorm, silu, type Net } from './nn.ts';
import { resnet, spatialAttention, upsample, type NormSpec } from './blocks.ts';
import type { VaeDecoderConfig } from './config.ts';

const VAE_NORM_EPS = 1e-6;

export function buildVaeDecoder(cfg: VaeDecoderConfig, seed: number): ModelProto {
  const g = new GraphBuilder();
  const net: Net = { g, seed };
  const norm: NormSpec = { groups: cfg.normGroups, eps: VAE_NORM_EPS };
  const latent = g.input('latent_sample', 'float32', ['batch_size', 'num_channels_latent', 'height_latent', 'width_latent']);
  const z = conv2d(net, 'post_quant_conv', latent, cfg.latentChannels, cfg.latentChannels, { kernel: 1 });
  const reversed = [...cfg.blockOutChannels].reverse();
  const out = g.scope('decoder', () => {
    const top = reversed[0];
    let h = conv2d(net, 'conv_in', z, cfg.latentChannels, top);
    h = g.scope('mid_block', () => {
      const r = resnet(net, 'resnets.0', h, top, top, norm);
      return resnet(net, 'resnets.1', spatialAttention(net, 'attentions.0', r, top, norm), top, top, norm);
    });
    let channels = top;
    reversed.forEach((outC, b) => {
      h = g.scope(`up_blocks.${b}`, () => {
        let x = h;
        for (let i = 0; i <= cfg.layersPerBlock; i++) {
          x = resnet(net, `resnets.${i}`, x, channels, outC, norm);
          channels = outC;
        }
        return b < reversed.length - 1 ? upsample(net, 'upsamplers.0', x, outC) : x;
      });
    });
    const normed = groupNorm(net, 'conv_norm_out', h, channels, cfg.normGroups, VAE_NORM_EPS);
    return conv2d(net, 'conv_out', silu(net, 'conv_act', normed), channels, cfg.outChannels);
  });
  g.output('sample', 'float32', ['batch_size', 'num_channels', 'height', 'width'], out);
  return g.toModel();
}
