/**
 * Pairs values of the reference graph with values of the candidate graph.
 *
 * - by name: same value name, same dtype class (float) and same dims.
 * - by topology: a quantized or fp16 build inserts Cast / QuantizeLinear /
 *   DequantizeLinear / DynamicQuantizeLinear nodes and renames values. Each
 *   value gets a structural key: its producer's op type plus the keys of its
 *   live float inputs, seen through those transparent ops; constants (weights,
 *   folded shape arithmetic) and integer shape values all read as `c`, so a
 *   quantized weight or a folded Reshape target does not break the chain.
 *   Values with equal keys are paired in order of appearance (the Q, K and V
 *   projections of one attention have equal keys and keep their order).
 * - auto: by name first, topology for the rest.
 */
import { createHash } from 'node:crypto';
import type { GraphNode, GraphView } from './graph-view.ts';
import { isFloatDtype, type ValueInfo } from './session.ts';

export type MatchMode = 'auto' | 'name' | 'topology';

/** Ops that change a value's precision or encoding but not what it means. */
export const TRANSPARENT_OPS = new Set(['Cast', 'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'Identity']);

export interface Side {
  graph: GraphView;
  values: Map<string, ValueInfo>;
}

export interface MatchedValue {
  reference: string;
  candidate: string;
  by: 'name' | 'topology';
  /** Producer in each graph. */
  refNode: GraphNode;
  candNode: GraphNode;
}

/** Values worth comparing: float outputs of non-transparent nodes, known from the sizing run. */
export function comparableValues(side: Side): string[] {
  const out: string[] = [];
  for (const n of side.graph.nodes) {
    if (TRANSPARENT_OPS.has(n.opType) || n.opType === 'Constant') continue;
    for (const o of n.outputs) {
      const info = side.values.get(o);
      if (o && info && isFloatDtype(info.dtype) && !side.graph.isConstant(o)) out.push(o);
    }
  }
  return out;
}

export function matchValues(ref: Side, cand: Side, mode: MatchMode): MatchedValue[] {
  const refValues = comparableValues(ref);
  const candValues = comparableValues(cand);
  const pairs = new Map<string, { candidate: string; by: 'name' | 'topology' }>();
  if (mode !== 'topology') {
    const candSet = new Set(candValues);
    for (const v of refValues) if (candSet.has(v) && sameDims(ref.values.get(v)!, cand.values.get(v)!)) pairs.set(v, { candidate: v, by: 'name' });
  }
  if (mode !== 'name') {
    const taken = new Set([...pairs.values()].map((p) => p.candidate));
    const candByKey = groupByKey(cand, candValues.filter((v) => !taken.has(v)));
    const seen = new Map<string, number>();
    const refKeys = structuralKeys(ref);
    for (const v of refValues) {
      const key = refKeys.get(v)!;
      const k = seen.get(key) ?? 0;
      seen.set(key, k + 1);
      if (pairs.has(v)) continue;
      const c = candByKey.get(key)?.[k];
      if (c && sameDims(ref.values.get(v)!, cand.values.get(c)!)) pairs.set(v, { candidate: c, by: 'topology' });
    }
  }
  return refValues.filter((v) => pairs.has(v)).map((v) => {
    const p = pairs.get(v)!;
    return { reference: v, candidate: p.candidate, by: p.by, refNode: ref.graph.producer.get(v)!, candNode: cand.graph.producer.get(p.candidate)! };
  });
}

/** Candidate values by key, each list indexed by occurrence (all values counted, so indices line up with the reference's). */
function groupByKey(side: Side, free: string[]): Map<string, Array<string | undefined>> {
  const keys = structuralKeys(side);
  const freeSet = new Set(free);
  const out = new Map<string, Array<string | undefined>>();
  for (const v of comparableValues(side)) {
    const list = out.get(keys.get(v)!) ?? out.set(keys.get(v)!, []).get(keys.get(v)!)!;
    list.push(freeSet.has(v) ? v : undefined);
  }
  return out;
}

function sameDims(a: ValueInfo, b: ValueInfo): boolean {
  return a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
}

/** The value a transparent chain starts from: follow input 0 of Cast/Q/DQ/Identity upwards. */
export function throughTransparent(graph: GraphView, value: string): string {
  let v = value;
  for (let p = graph.producer.get(v); p && TRANSPARENT_OPS.has(p.opType) && p.inputs[0]; p = graph.producer.get(v)) v = p.inputs[0];
  return v;
}

/** Structural key of every value in the graph (hashes, so deep graphs stay cheap). */
export function structuralKeys(side: Side): Map<string, string> {
  const { graph, values } = side;
  const keys = new Map<string, string>();
  for (const name of graph.graphInputs) keys.set(name, `input:${name}`);
  const keyOf = (value: string): string => {
    if (!value) return '-';
    const src = throughTransparent(graph, value);
    if (graph.isConstant(src)) return 'c';
    const info = values.get(src);
    if (info && !isFloatDtype(info.dtype)) return 'c';
    return keys.get(src) ?? 'c';
  };
  for (const n of graph.nodes) {
    if (TRANSPARENT_OPS.has(n.opType)) continue;
    const head = `${n.domain}:${n.opType}(${n.inputs.map(keyOf).join(',')})`;
    n.outputs.forEach((o, i) => o && keys.set(o, hash(`${head}#${i}`)));
  }
  return keys;
}

function hash(s: string): string {
  return createHash('sha1').update(s).digest('base64').slice(0, 16);
}
