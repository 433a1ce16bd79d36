/**
 * Neural-network building blocks as ONNX subgraphs, decomposed the way
 * torch.onnx.export (opset 14) decomposes the PyTorch modules diffusers and
 * transformers use: GroupNorm = Reshape→InstanceNormalization→Reshape→Mul→Add,
 * LayerNorm = ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add, SiLU = Sigmoid·x,
 * Linear on 3-D input = MatMul(+Add), on 2-D input = Gemm.
 *
 * Each block takes the module's name (its scope), creates its parameters with
 * seeded weights, and returns the output tensor's name.
 */
import { GraphBuilder, float, int, ints } from './graph.ts';
import { uniformWeights } from './prng.ts';

/** The graph under construction plus the seed its weights come from. */
export interface Net {
  readonly g: GraphBuilder;
  readonly seed: number;
  /**
   * Prefixed to each parameter's name when keying its weight stream, so two components whose
   * parameters share names (SDXL's two text encoders) get unrelated weights. Absent: no prefix.
   */
  readonly streamPrefix?: string;
}

/** The key of a parameter's weight stream: its dotted name, after the component's stream prefix if any. */
export function weightKey(net: Net, local: string): string {
  return (net.streamPrefix ?? '') + net.g.paramName(local);
}

/**
 * A parameter with values uniform around `center`. The half-width
 * sqrt(3 / fanIn) gives variance 1/fanIn, so each layer roughly preserves the
 * scale of its (normalized) input and activations stay near unit size.
 */
function param(net: Net, local: string, dims: readonly number[], halfWidth: number, center = 0): string {
  const count = dims.reduce((a, b) => a * b, 1);
  const data = uniformWeights(net.seed, weightKey(net, local), count, halfWidth, center);
  return net.g.param(local, dims, data);
}

const fanInBound = (fanIn: number): number => Math.sqrt(3 / fanIn);
/** Biases and norm shifts: small but non-zero, so that a dropped bias is a visible fault. */
const BIAS_BOUND = 0.05;
/** Norm scales: 1 ± 0.1. */
const SCALE_BOUND = 0.1;

export interface ConvOptions {
  kernel?: number;
  stride?: number;
  /** Zero padding on every side; default kernel/2 ("same" for odd kernels). */
  pad?: number;
}

export function conv2d(net: Net, name: string, x: string, inC: number, outC: number, options: ConvOptions = {}): string {
  const k = options.kernel ?? 3;
  const stride = options.stride ?? 1;
  const pad = options.pad ?? Math.floor(k / 2);
  return net.g.scope(name, () => {
    const w = param(net, 'weight', [outC, inC, k, k], fanInBound(inC * k * k));
    const b = param(net, 'bias', [outC], BIAS_BOUND);
    return net.g.node('Conv', [x, w, b], {
      dilations: ints([1, 1]),
      group: int(1),
      kernel_shape: ints([k, k]),
      pads: ints([pad, pad, pad, pad]),
      strides: ints([stride, stride]),
    });
  });
}

/** torch.nn.Linear on a 2-D input: Gemm with the weight as stored, [out, in]. */
export function gemm(net: Net, name: string, x: string, inF: number, outF: number): string {
  return net.g.scope(name, () => {
    const w = param(net, 'weight', [outF, inF], fanInBound(inF));
    const b = param(net, 'bias', [outF], BIAS_BOUND);
    return net.g.node('Gemm', [x, w, b], { alpha: float(1), beta: float(1), transB: int(1) });
  });
}

/** torch.nn.Linear on a 3-D input: MatMul with the transposed weight [in, out], then Add of the bias. */
export function linear(net: Net, name: string, x: string, inF: number, outF: number, bias = true): string {
  return net.g.scope(name, () => {
    const w = param(net, 'weight', [inF, outF], fanInBound(inF));
    const y = net.g.node('MatMul', [x, w]);
    return bias ? net.g.node('Add', [param(net, 'bias', [outF], BIAS_BOUND), y]) : y;
  });
}

export function silu(net: Net, name: string, x: string): string {
  return net.g.scope(name, () => net.g.node('Mul', [x, net.g.node('Sigmoid', [x])]));
}

/** CLIP's quick_gelu: x·sigmoid(1.702x). */
export function quickGelu(net: Net, name: string, x: string): string {
  return net.g.scope(name, () => {
    const scaled = net.g.node('Mul', [x, net.g.constFloat([1.702], [])]);
    return net.g.node('Mul', [x, net.g.node('Sigmoid', [scaled])]);
  });
}

/** Exact GELU as torch exports it at opset 14: x·0.5·(1 + erf(x/√2)). */
export function gelu(net: Net, x: string): string {
  const g = net.g;
  const erf = g.node('Erf', [g.node('Div', [x, g.constFloat([Math.SQRT2], [])])]);
  const onePlus = g.node('Add', [erf, g.constFloat([1], [])]);
  return g.node('Mul', [g.node('Mul', [x, onePlus]), g.constFloat([0.5], [])]);
}

/** torch.nn.GroupNorm over NCHW with `groups` groups and per-channel affine. */
export function groupNorm(net: Net, name: string, x: string, channels: number, groups: number, eps: number): string {
  const g = net.g;
  return g.scope(name, () => {
    const grouped = g.node('Reshape', [x, g.constInt64([0, groups, -1])], { allowzero: int(0) });
    const ones = g.constFloat(new Array<number>(groups).fill(1));
    const zeros = g.constFloat(new Array<number>(groups).fill(0));
    const normed = g.node('InstanceNormalization', [grouped, ones, zeros], { epsilon: float(eps) });
    const back = g.node('Reshape', [normed, g.node('Shape', [x])], { allowzero: int(0) });
    const w = param(net, 'weight', [channels, 1, 1], SCALE_BOUND, 1);
    const b = param(net, 'bias', [channels, 1, 1], BIAS_BOUND);
    return g.node('Add', [g.node('Mul', [back, w]), b]);
  });
}

/** torch.nn.LayerNorm over the last axis, decomposed as opset 14 requires. */
export function layerNorm(net: Net, name: string, x: string, width: number, eps: number): string {
  const g = net.g;
  return g.scope(name, () => {
    const mean = g.node('ReduceMean', [x], { axes: ints([-1]), keepdims: int(1) });
    const centered = g.node('Sub', [x, mean]);
    const sq = g.node('Pow', [centered, g.constFloat([2], [])]);
    const variance = g.node('ReduceMean', [sq], { axes: ints([-1]), keepdims: int(1) });
    const std = g.node('Sqrt', [g.node('Add', [variance, g.constFloat([eps], [])])]);
    const normed = g.node('Div', [centered, std]);
    const w = param(net, 'weight', [width], SCALE_BOUND, 1);
    const b = param(net, 'bias', [width], BIAS_BOUND);
    return g.node('Add', [g.node('Mul', [normed, w]), b]);
  });
}

export interface AttentionSpec {
  /** Width of the query stream. */
  dim: number;
  /** Width of the key/value stream (the text width for cross-attention). */
  contextDim: number;
  heads: number;
  /** Module names of the projections (diffusers: to_q, to_k, to_v, to_out.0; CLIP: q_proj…). */
  names: { q: string; k: string; v: string; out: string };
  /** CLIP has biases on q/k/v; diffusers' U-Net attention does not. */
  qkvBias: boolean;
}

/**
 * Multi-head attention: [B, S, dim] queries over [B, T, contextDim] keys/values.
 * `mask` (added to the scores, broadcastable to [B, heads, S, T]) makes it causal.
 */
export function attention(net: Net, name: string, x: string, context: string, spec: AttentionSpec, mask?: string): string {
  const g = net.g;
  const headDim = spec.dim / spec.heads;
  return g.scope(name, () => {
    const q = linear(net, spec.names.q, x, spec.dim, spec.dim, spec.qkvBias);
    const k = linear(net, spec.names.k, context, spec.contextDim, spec.dim, spec.qkvBias);
    const v = linear(net, spec.names.v, context, spec.contextDim, spec.dim, spec.qkvBias);
    const split = g.constInt64([0, 0, spec.heads, headDim]);
    const heads = (t: string, perm: number[]) =>
      g.node('Transpose', [g.node('Reshape', [t, split], { allowzero: int(0) })], { perm: ints(perm) });
    const qh = heads(q, [0, 2, 1, 3]); // [B, H, S, D]
    const kt = heads(k, [0, 2, 3, 1]); // [B, H, D, T]
    const vh = heads(v, [0, 2, 1, 3]); // [B, H, T, D]
    let scores = g.node('Mul', [g.node('MatMul', [qh, kt]), g.constFloat([1 / Math.sqrt(headDim)], [])]);
    if (mask) scores = g.node('Add', [scores, mask]);
    const probs = g.node('Softmax', [scores], { axis: int(-1) });
    const merged = g.node('Transpose', [g.node('MatMul', [probs, vh])], { perm: ints([0, 2, 1, 3]) });
    const flat = g.node('Reshape', [merged, g.constInt64([0, 0, spec.dim])], { allowzero: int(0) });
    return linear(net, spec.names.out, flat, spec.dim, spec.dim, true);
  });
}
