/**
 * The diffusers blocks shared by the U-Net and the VAE decoder: ResnetBlock2D,
 * Transformer2DModel (BasicTransformerBlock with GEGLU), the VAE's spatial
 * Attention, Downsample2D and Upsample2D.
 */
import { float, int, ints, str } from './graph.ts';
import { attention, conv2d, gelu, gemm, groupNorm, layerNorm, linear, silu, type Net } from './nn.ts';

export interface NormSpec {
  groups: number;
  eps: number;
}

/**
 * ResnetBlock2D: norm1→SiLU→conv1 (+ time_emb_proj(SiLU(temb)) when `temb` is
 * given) →norm2→SiLU→conv2, plus the input (through a 1×1 conv_shortcut when the
 * width changes). `temb` is the already-activated time embedding and its width.
 */
export function resnet(
  net: Net,
  name: string,
  x: string,
  inC: number,
  outC: number,
  norm: NormSpec,
  temb?: { value: string; width: number },
): string {
  const g = net.g;
  return g.scope(name, () => {
    let h = conv2d(net, 'conv1', silu(net, 'act', groupNorm(net, 'norm1', x, inC, norm.groups, norm.eps)), inC, outC);
    if (temb) {
      const t = gemm(net, 'time_emb_proj', temb.value, temb.width, outC);
      h = g.node('Add', [h, g.node('Unsqueeze', [t, g.constInt64([2, 3])])]);
    }
    h = conv2d(net, 'conv2', silu(net, 'act', groupNorm(net, 'norm2', h, outC, norm.groups, norm.eps)), outC, outC);
    const shortcut = inC === outC ? x : conv2d(net, 'conv_shortcut', x, inC, outC, { kernel: 1 });
    return g.node('Add', [shortcut, h]);
  });
}

/**
 * Downsample2D: a stride-2 3×3 conv. `padding: 'asymmetric'` is the VAE encoder's (downsample_padding=0):
 * F.pad(x, (0, 1, 0, 1)) — one zero row below and one column right — then the conv without padding.
 */
export function downsample(net: Net, name: string, x: string, channels: number, padding: 'symmetric' | 'asymmetric' = 'symmetric'): string {
  const g = net.g;
  return g.scope(name, () => {
    if (padding === 'symmetric') return conv2d(net, 'conv', x, channels, channels, { stride: 2 });
    const pads = g.constInt64([0, 0, 0, 0, 0, 0, 1, 1]);
    const padded = g.node('Pad', [x, pads, g.constFloat([0], [])], { mode: str('constant') });
    return conv2d(net, 'conv', padded, channels, channels, { stride: 2, pad: 0 });
  });
}

/** Nearest-neighbour ×2 as torch exports F.interpolate(scale_factor=2), then a 3×3 conv. */
export function upsample(net: Net, name: string, x: string, channels: number): string {
  const g = net.g;
  return g.scope(name, () => {
    const roi = g.constFloat([]);
    const scales = g.constFloat([1, 1, 2, 2]);
    const up = g.node('Resize', [x, roi, scales], {
      coordinate_transformation_mode: str('asymmetric'),
      cubic_coeff_a: float(-0.75),
      mode: str('nearest'),
      nearest_mode: str('floor'),
    });
    return conv2d(net, 'conv', up, channels, channels);
  });
}

/** NCHW → [B, H·W, C] tokens. */
function toTokens(net: Net, x: string, channels: number): string {
  const g = net.g;
  const nhwc = g.node('Transpose', [x], { perm: ints([0, 2, 3, 1]) });
  return g.node('Reshape', [nhwc, g.constInt64([0, -1, channels])], { allowzero: int(0) });
}

/** [B, H·W, C] tokens → NCHW shaped like `like`. */
function fromTokens(net: Net, tokens: string, like: string): string {
  const g = net.g;
  const nchw = g.node('Transpose', [tokens], { perm: ints([0, 2, 1]) });
  return g.node('Reshape', [nchw, g.node('Shape', [like])], { allowzero: int(0) });
}

export interface TransformerSpec {
  channels: number;
  heads: number;
  contextDim: number;
  norm: NormSpec;
  /** BasicTransformerBlocks in sequence (default 1). */
  layers?: number;
  /** proj_in/proj_out as Linear on the tokens (use_linear_projection) instead of 1×1 convs. */
  linearProjection?: boolean;
}

/**
 * Transformer2DModel: GroupNorm → proj_in (1×1 conv then tokens, or tokens then
 * Linear) → BasicTransformerBlocks [LN→self-attn, LN→cross-attn on the text,
 * LN→GEGLU feed-forward, each residual] → proj_out (the mirror) → plus the
 * block's input.
 */
export function transformer2d(net: Net, name: string, x: string, context: string, spec: TransformerSpec): string {
  const g = net.g;
  const c = spec.channels;
  return g.scope(name, () => {
    const normed = groupNorm(net, 'norm', x, c, spec.norm.groups, 1e-6);
    let h = spec.linearProjection
      ? linear(net, 'proj_in', toTokens(net, normed, c), c, c)
      : toTokens(net, conv2d(net, 'proj_in', normed, c, c, { kernel: 1 }), c);
    for (let k = 0; k < (spec.layers ?? 1); k++) {
      h = g.scope(`transformer_blocks.${k}`, () => basicTransformerBlock(net, h, context, spec));
    }
    const out = spec.linearProjection
      ? fromTokens(net, linear(net, 'proj_out', h, c, c), normed)
      : conv2d(net, 'proj_out', fromTokens(net, h, normed), c, c, { kernel: 1 });
    return g.node('Add', [out, x]);
  });
}

function basicTransformerBlock(net: Net, h: string, context: string, spec: TransformerSpec): string {
  const g = net.g;
  const c = spec.channels;
  const names = { q: 'to_q', k: 'to_k', v: 'to_v', out: 'to_out.0' };
  const self = { dim: c, contextDim: c, heads: spec.heads, names, qkvBias: false };
  const n1 = layerNorm(net, 'norm1', h, c, 1e-5);
  let t = g.node('Add', [attention(net, 'attn1', n1, n1, self), h]);
  const n2 = layerNorm(net, 'norm2', t, c, 1e-5);
  t = g.node('Add', [attention(net, 'attn2', n2, context, { ...self, contextDim: spec.contextDim }), t]);
  const n3 = layerNorm(net, 'norm3', t, c, 1e-5);
  return g.node('Add', [geglu(net, 'ff', n3, c), t]);
}

/** diffusers' FeedForward with GEGLU: proj to 2·4C, split, hidden·gelu(gate), Linear back to C. */
function geglu(net: Net, name: string, x: string, c: number): string {
  const g = net.g;
  const inner = 4 * c;
  return g.scope(name, () => {
    const projected = g.scope('net.0', () => linear(net, 'proj', x, c, 2 * inner));
    const [hidden, gate] = g.scope('net.0', () =>
      g.nodeN('Split', [projected, g.constInt64([inner, inner])], 2, { axis: int(-1) }),
    );
    const gated = g.scope('net.0', () => g.node('Mul', [hidden, gelu(net, gate)]));
    return linear(net, 'net.2', gated, inner, c);
  });
}

/**
 * The VAE's single-head spatial self-attention (Attention with group norm,
 * residual connection): tokens → q/k/v with biases → softmax(qkᵀ/√C)v → to_out.
 */
export function spatialAttention(net: Net, name: string, x: string, channels: number, norm: NormSpec): string {
  const g = net.g;
  return g.scope(name, () => {
    const tokens = toTokens(net, groupNorm(net, 'group_norm', x, channels, norm.groups, norm.eps), channels);
    const attended = attention(net, '', tokens, tokens, {
      dim: channels,
      contextDim: channels,
      heads: 1,
      names: { q: 'to_q', k: 'to_k', v: 'to_v', out: 'to_out.0' },
      qkvBias: true,
    });
    return g.node('Add', [fromTokens(net, attended, x), x]);
  });
}
