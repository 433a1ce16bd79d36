/**
 * Small editing helpers over a loaded ONNX graph (onnx-proto objects), shared
 * by the variant transforms: reading/writing initializer data, looking up
 * producers and consumers, inserting nodes, and element-type inference.
 * Every helper is deterministic: it walks the graph in its stored order.
 */
import onnxProto from 'onnx-proto';
import type { ModelProto, TensorProto } from '../graph.ts';
import { toNumber } from '../graph.ts';

const { onnx } = onnxProto;
export const DT = onnx.TensorProto.DataType;
export type NodeProto = onnxProto.onnx.INodeProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type AttrProto = onnxProto.onnx.IAttributeProto;
const AT = onnx.AttributeProto.AttributeType;

export function graphOf(model: ModelProto): GraphProto {
  if (!model.graph) throw new Error('model has no graph');
  return model.graph;
}

export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => toNumber(d as number));
}

/** Float32 values of an initializer or Constant tensor (copied, so the result is aligned). */
export function readFloat32(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData.byteLength);
    copy.set(t.rawData);
    return new Float32Array(copy.buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Replaces a tensor's contents in place with `data` as raw bytes. */
export function setData(t: TensorProto, dataType: number, data: Float32Array | Uint16Array | Int8Array | Uint8Array): void {
  t.dataType = dataType;
  t.rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  t.floatData = [];
  t.int32Data = [];
  t.int64Data = [];
}

export function makeInitializer(name: string, dataType: number, dims: readonly number[], data: Float32Array | Uint16Array | Int8Array | Uint8Array): TensorProto {
  const t: TensorProto = { name, dims: [...dims] };
  setData(t, dataType, data);
  return t;
}

export function attr(node: NodeProto, name: string): AttrProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? toNumber(a.i as number) : fallback;
}

export const intAttribute = (name: string, i: number): AttrProto => ({ name, type: AT.INT, i });
export const floatAttribute = (name: string, f: number): AttrProto => ({ name, type: AT.FLOAT, f });

/** Unique names for inserted tensors and nodes, under one recognisable prefix. */
export class Namer {
  private readonly used = new Set<string>();
  constructor(graph: GraphProto, private readonly prefix: string) {
    for (const n of graph.node ?? []) {
      if (n.name) this.used.add(n.name);
      for (const o of n.output ?? []) this.used.add(o);
    }
    for (const t of graph.initializer ?? []) this.used.add(t.name ?? '');
    for (const i of graph.input ?? []) this.used.add(i.name ?? '');
  }
  /** `prefix/base`, suffixed `_1`, `_2`, … if taken. */
  name(base: string): string {
    const stem = `${this.prefix}/${base}`;
    let name = stem;
    for (let k = 1; this.used.has(name); k++) name = `${stem}_${k}`;
    this.used.add(name);
    return name;
  }
}

export function node(opType: string, name: string, input: string[], output: string[], attribute: AttrProto[] = []): NodeProto {
  return { opType, name, input, output, attribute };
}

/** Initializers by name. */
export function initializerMap(graph: GraphProto): Map<string, TensorProto> {
  return new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
}

/** Node producing each tensor. */
export function producerMap(graph: GraphProto): Map<string, NodeProto> {
  const m = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) m.set(o, n);
  return m;
}

/**
 * The initializer behind a node input: the input itself, or through one
 * Identity (torch exports shared parameters that way).
 */
export function weightBehind(input: string, inits: Map<string, TensorProto>, producers: Map<string, NodeProto>): TensorProto | undefined {
  const direct = inits.get(input);
  if (direct) return direct;
  const p = producers.get(input);
  if (p?.opType === 'Identity') return inits.get(p.input?.[0] ?? '');
  return undefined;
}

/**
 * Rebuilds the node list with `before.get(n)` inserted ahead of node n and
 * `after.get(n)` right after it; `head` goes first.
 */
export function spliceNodes(graph: GraphProto, head: NodeProto[], before: Map<NodeProto, NodeProto[]>, after: Map<NodeProto, NodeProto[]> = new Map()): void {
  const out: NodeProto[] = [...head];
  for (const n of graph.node ?? []) out.push(...(before.get(n) ?? []), n, ...(after.get(n) ?? []));
  graph.node = out;
}

/** Replaces input `from` with `to` in every node (except `skip`) and returns how many slots changed. */
export function rewireInputs(graph: GraphProto, from: string, to: string, skip?: ReadonlySet<NodeProto>): number {
  let count = 0;
  for (const n of graph.node ?? []) {
    if (skip?.has(n)) continue;
    n.input = (n.input ?? []).map((x) => (x === from ? (count++, to) : x));
  }
  return count;
}

export function opsetVersion(model: ModelProto): number {
  const main = (model.opsetImport ?? []).find((o) => !o.domain);
  return toNumber(main?.version as number);
}

/**
 * Element type of every tensor, inferred forward from graph inputs,
 * initializers and Constant values with per-op rules (enough for exported SD
 * graphs; an unknown op is assumed to keep its first input's type).
 */
export function inferElemTypes(graph: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const i of graph.input ?? []) types.set(i.name ?? '', i.type?.tensorType?.elemType ?? 0);
  for (const t of graph.initializer ?? []) types.set(t.name ?? '', t.dataType ?? 0);
  for (const n of graph.node ?? []) {
    const out = outputType(n, (k) => types.get(n.input?.[k] ?? '') ?? 0);
    for (const o of n.output ?? []) if (!types.has(o)) types.set(o, out);
  }
  return types;
}

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);

function outputType(n: NodeProto, input: (k: number) => number): number {
  const op = n.opType ?? '';
  if (op === 'Constant') return attr(n, 'value')?.t?.dataType ?? DT.FLOAT;
  if (op === 'ConstantOfShape') return attr(n, 'value')?.t?.dataType ?? DT.FLOAT;
  if (op === 'Cast') return intAttr(n, 'to', DT.FLOAT);
  if (BOOL_OPS.has(op)) return DT.BOOL;
  if (INT64_OPS.has(op)) return DT.INT64;
  if (op === 'Where') return input(1);
  if (op === 'DequantizeLinear') return DT.FLOAT;
  if (op === 'QuantizeLinear' || op === 'DynamicQuantizeLinear') return DT.UINT8;
  if (op === 'MatMulInteger' || op === 'ConvInteger') return DT.INT32;
  return input(0);
}

export const isFloat32 = (t: number | undefined): boolean => t === DT.FLOAT;

/** A ValueInfo with an element type and unknown shape (enough for extra graph outputs). */
export function looseValueInfo(name: string, elemType: number): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType } } };
}

/** Ops whose second input is a weight matrix/kernel. */
export const WEIGHT_OPS = new Set(['Conv', 'MatMul', 'Gemm']);
