/**
 * A CLIP text encoder (transformers' CLIPTextModel, or CLIPTextModelWithProjection
 * when `projectionDim` is set): token + position embeddings, pre-LayerNorm
 * transformer layers with causal self-attention and a quick-GELU (or GELU) MLP,
 * final LayerNorm; the pooled output is the hidden state at the first
 * end-of-text token of each row.
 *
 * Signature as optimum exports it: `input_ids` int32 (text_encoder_2: int64)
 * [batch_size, sequence_length] → `last_hidden_state` float32 [batch_size,
 * sequence_length, hidden], `pooler_output` float32 [batch_size, hidden]; with
 * a projection, `text_embeds` [batch_size, projection] first and no pooler_output;
 * with `outputHiddenStates`, then `hidden_states.0` (the embeddings) …
 * `hidden_states.N` (each layer's output, before the final LayerNorm).
 */
import { GraphBuilder, int, type ModelProto } from './graph.ts';
import { attention, gelu, layerNorm, linear, quickGelu, type Net, weightKey } from './nn.ts';
import { uniformWeights } from './prng.ts';
import type { TextEncoderConfig } from './config.ts';

const FLOAT32_MIN = -3.4028234663852886e38;

/** `streamPrefix` keys the weights apart from another encoder's in the same folder (SDXL's `text_encoder_2/`). */
export function buildTextEncoder(cfg: TextEncoderConfig, seed: number, streamPrefix?: string): ModelProto {
  const g = new GraphBuilder();
  const net: Net = streamPrefix === undefined ? { g, seed } : { g, seed, streamPrefix: `${streamPrefix}/` };
  const idsDtype = cfg.inputIdsDtype ?? 'int32';
  const ids = g.input('input_ids', idsDtype, ['batch_size', 'sequence_length']);
  const states: string[] = [];
  const { hidden, seqLen } = g.scope('text_model', () => {
    const embedded = g.scope('embeddings', () => embeddings(net, cfg, ids));
    const mask = g.scope('encoder', () => causalMask(g, cfg.maxPositions, embedded.seqLen));
    let h = embedded.hidden;
    states.push(h);
    for (let i = 0; i < cfg.layers; i++) {
      h = g.scope('encoder', () => g.scope(`layers.${i}`, () => encoderLayer(net, cfg, h, mask)));
      states.push(h);
    }
    return { hidden: layerNorm(net, 'final_layer_norm', h, cfg.hiddenSize, cfg.layerNormEps), seqLen: embedded.seqLen };
  });
  const pooled = g.scope('text_model', () => poolAtEos(g, cfg, ids, idsDtype, hidden, seqLen));
  const perToken = ['batch_size', 'sequence_length', cfg.hiddenSize];
  if (cfg.projectionDim !== undefined) {
    const projected = linear(net, 'text_projection', pooled, cfg.hiddenSize, cfg.projectionDim, false);
    g.output('text_embeds', 'float32', ['batch_size', cfg.projectionDim], projected);
    g.output('last_hidden_state', 'float32', perToken, hidden);
  } else {
    g.output('last_hidden_state', 'float32', perToken, hidden);
    g.output('pooler_output', 'float32', ['batch_size', cfg.hiddenSize], pooled);
  }
  if (cfg.outputHiddenStates) states.forEach((s, i) => g.output(`hidden_states.${i}`, 'float32', perToken, s));
  return g.toModel();
}

/** Token embedding (Gather) plus the first `sequence_length` rows of the position table. */
function embeddings(net: Net, cfg: TextEncoderConfig, ids: string): { hidden: string; seqLen: string } {
  const g = net.g;
  // CLIP initializes embeddings with small values; 0.5 keeps rows distinct after the first LayerNorm.
  const tokenW = g.scope('token_embedding', () =>
    g.param('weight', [cfg.vocabSize, cfg.hiddenSize], uniformWeights(net.seed, weightKey(net, 'weight'), cfg.vocabSize * cfg.hiddenSize, 0.5)),
  );
  const positionW = g.scope('position_embedding', () =>
    g.param('weight', [cfg.maxPositions, cfg.hiddenSize], uniformWeights(net.seed, weightKey(net, 'weight'), cfg.maxPositions * cfg.hiddenSize, 0.5)),
  );
  const tokens = g.scope('token_embedding', () => g.node('Gather', [tokenW, ids], { axis: int(0) }));
  const seqLen = g.node('Slice', [g.node('Shape', [ids]), g.constInt64([1]), g.constInt64([2]), g.constInt64([0])]);
  const positions = g.scope('position_embedding', () =>
    g.node('Slice', [positionW, g.constInt64([0]), seqLen, g.constInt64([0])]),
  );
  return { hidden: g.node('Add', [tokens, positions]), seqLen };
}

/** [S, S] additive mask: 0 on and below the diagonal, float32's minimum above (as transformers builds it). */
function causalMask(g: GraphBuilder, maxPositions: number, seqLen: string): string {
  const full = new Float32Array(maxPositions * maxPositions);
  for (let r = 0; r < maxPositions; r++) for (let c = r + 1; c < maxPositions; c++) full[r * maxPositions + c] = FLOAT32_MIN;
  const table = g.constant('float32', [maxPositions, maxPositions], full);
  const ends = g.node('Concat', [seqLen, seqLen], { axis: int(0) });
  return g.node('Slice', [table, g.constInt64([0, 0]), ends, g.constInt64([0, 1])]);
}

function encoderLayer(net: Net, cfg: TextEncoderConfig, x: string, mask: string): string {
  const g = net.g;
  const normed = layerNorm(net, 'layer_norm1', x, cfg.hiddenSize, cfg.layerNormEps);
  const attended = attention(net, 'self_attn', normed, normed, {
    dim: cfg.hiddenSize,
    contextDim: cfg.hiddenSize,
    heads: cfg.heads,
    names: { q: 'q_proj', k: 'k_proj', v: 'v_proj', out: 'out_proj' },
    qkvBias: true,
  }, mask);
  const h = g.node('Add', [x, attended]);
  const normed2 = layerNorm(net, 'layer_norm2', h, cfg.hiddenSize, cfg.layerNormEps);
  const mlp = g.scope('mlp', () => {
    const up = linear(net, 'fc1', normed2, cfg.hiddenSize, cfg.intermediateSize);
    const act = cfg.hiddenAct === 'gelu' ? g.scope('activation_fn', () => gelu(net, up)) : quickGelu(net, 'activation_fn', up);
    return linear(net, 'fc2', act, cfg.intermediateSize, cfg.hiddenSize);
  });
  return g.node('Add', [h, mlp]);
}

/** Row b's hidden state at the first position whose id is the end-of-text id. */
function poolAtEos(g: GraphBuilder, cfg: TextEncoderConfig, ids: string, idsDtype: 'int32' | 'int64', hidden: string, seqLen: string): string {
  const eos = idsDtype === 'int32' ? g.constant('int32', [], Int32Array.of(cfg.eosTokenId)) : g.constant('int64', [], BigInt64Array.of(BigInt(cfg.eosTokenId)));
  const isEos = g.node('Cast', [g.node('Equal', [ids, eos])], { to: int(6) });
  const position = g.node('ArgMax', [isEos], { axis: int(-1), keepdims: int(0), select_last_index: int(0) });
  const batch = g.node('Gather', [g.node('Shape', [ids]), g.constInt64([0], [])], { axis: int(0) });
  const rows = g.node('Range', [g.constInt64([0], []), batch, g.constInt64([1], [])]);
  const seq = g.node('Squeeze', [seqLen, g.constInt64([0])]);
  const flatIndex = g.node('Add', [g.node('Mul', [rows, seq]), position]);
  const flat = g.node('Reshape', [hidden, g.constInt64([-1, cfg.hiddenSize])], { allowzero: int(0) });
  return g.node('Gather', [flat, flatIndex], { axis: int(0) });
}

