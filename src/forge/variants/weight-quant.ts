/**
 * Per-output-channel symmetric int8 weight quantization, shared by the
 * int8-weight, int8-dynamic and int8-qdq kinds: scale_c = max|w_c| / 127,
 * q = round-half-even(w / scale_c), zero point 0 — as onnxruntime's
 * quantizer does for weights with `per_channel=True, reduce_range=False`.
 */
import { UsageError } from '../../errors.ts';
import type { ModelProto, TensorProto } from '../graph.ts';
import {
  DT, type GraphProto, type NodeProto, dimsOf, graphOf, initializerMap, intAttr, intAttribute, makeInitializer, node, opsetVersion,
  producerMap, readFloat32, weightBehind, WEIGHT_OPS,
} from './graph-edit.ts';

export interface QuantizedWeight {
  q: Int8Array;
  scales: Float32Array;
  dims: number[];
  axis: number;
}

/** Round half to even, as numpy and onnxruntime round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantizePerChannel(w: Float32Array, dims: readonly number[], axis: number): QuantizedWeight {
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(w[i]));
  // An all-zero channel gets scale 1 so that dequantization stays finite.
  const scales = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, roundHalfEven(w[i] / scales[channelOf(i)])));
  return { q, scales, dims: [...dims], axis };
}

/** The output-channel axis of a weight op's weight: Conv [O,I,k,k] → 0, MatMul [K,N] → 1, Gemm by transB. */
export function outputAxis(op: NodeProto, rank: number): number {
  if (op.opType === 'Conv') return 0;
  if (op.opType === 'Gemm') return intAttr(op, 'transB', 0) ? 0 : 1;
  return rank - 1;
}

export interface WeightSite {
  op: NodeProto;
  weight: TensorProto;
  axis: number;
}

/** Conv/MatMul/Gemm nodes whose weight input is a float32 initializer of rank ≥ 2, in graph order. */
export function weightSites(graph: GraphProto, ops: ReadonlySet<string> = WEIGHT_OPS): WeightSite[] {
  const inits = initializerMap(graph);
  const producers = producerMap(graph);
  const sites: WeightSite[] = [];
  for (const op of graph.node ?? []) {
    if (!ops.has(op.opType ?? '')) continue;
    const weight = weightBehind(op.input?.[1] ?? '', inits, producers);
    if (!weight || weight.dataType !== DT.FLOAT || dimsOf(weight).length < 2) continue;
    // A MatMul weight must be the 2-D right operand for a per-column scale to make sense.
    if (op.opType === 'MatMul' && dimsOf(weight).length !== 2) continue;
    sites.push({ op, weight, axis: outputAxis(op, dimsOf(weight).length) });
  }
  return sites;
}

export function requireOpset13(model: ModelProto, kind: string, file: string): void {
  const v = opsetVersion(model);
  if (v < 13) throw new UsageError(`${file}: ${kind} needs ONNX opset ≥ 13 (per-channel DequantizeLinear), the model is opset ${v}`);
}

/**
 * Replaces each weight initializer W by int8 `W_quantized` + `W_scale` +
 * `W_zero_point` and a DequantizeLinear whose output is named W, so every
 * consumer is unchanged. Returns the counts (weights quantized, nodes added).
 */
export function dequantizeWeightsInPlace(model: ModelProto, sites: readonly WeightSite[]): { weights: number; nodes: number } {
  const graph = graphOf(model);
  const done = new Map<TensorProto, number>();
  const dq: NodeProto[] = [];
  for (const s of sites) {
    const axis = done.get(s.weight);
    if (axis !== undefined) continue;
    done.set(s.weight, s.axis);
    const name = s.weight.name ?? '';
    const qw = quantizePerChannel(readFloat32(s.weight), dimsOf(s.weight), s.axis);
    const qName = `${name}_quantized`;
    graph.initializer!.push(
      makeInitializer(qName, DT.INT8, qw.dims, qw.q),
      makeInitializer(`${name}_scale`, DT.FLOAT, [qw.scales.length], qw.scales),
      makeInitializer(`${name}_zero_point`, DT.INT8, [qw.scales.length], new Int8Array(qw.scales.length)),
    );
    dq.push(node('DequantizeLinear', `${name}_DequantizeLinear`, [qName, `${name}_scale`, `${name}_zero_point`], [name], [intAttribute('axis', s.axis)]));
  }
  graph.initializer = graph.initializer!.filter((t) => !done.has(t));
  graph.node = [...dq, ...(graph.node ?? [])];
  return { weights: done.size, nodes: dq.length };
}
