/**
 * A read-only view of an ONNX graph for localization: nodes in topological
 * order, who produces and who consumes each value, and which values are
 * constants (initializers, Constant outputs) rather than computed at run time.
 */
import onnxProto from 'onnx-proto';
import { UsageError } from '../errors.ts';

export type ModelProto = onnxProto.onnx.IModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;

export interface GraphNode {
  /** Position in topological order. */
  index: number;
  /** The node's name, or a made-up `<opType>#<index>` when the graph leaves it empty. */
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  proto: NodeProto;
}

export class GraphView {
  readonly nodes: GraphNode[];
  readonly producer = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  readonly initializers: Set<string>;
  readonly graphInputs: string[];
  readonly graphOutputs: string[];

  constructor(readonly model: ModelProto, readonly label: string) {
    const g = model.graph;
    if (!g) throw new UsageError(`${label}: ONNX model has no graph`);
    this.initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
    this.graphInputs = (g.input ?? []).map((i) => i.name ?? '').filter((n) => !this.initializers.has(n));
    this.graphOutputs = (g.output ?? []).map((o) => o.name ?? '');
    this.nodes = topoSort(g.node ?? [], new Set([...this.initializers, ...this.graphInputs]), label);
    for (const n of this.nodes) {
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      for (const i of n.inputs) if (i) (this.consumers.get(i) ?? this.consumers.set(i, []).get(i)!).push(n);
    }
  }

  /** A value that is the same on every run: an initializer, a Constant's output, or computed from those only. */
  isConstant(value: string): boolean {
    return this.constants().has(value);
  }

  private constantSet?: Set<string>;
  private constants(): Set<string> {
    if (this.constantSet) return this.constantSet;
    const set = new Set(this.initializers);
    for (const n of this.nodes) {
      const live = n.inputs.some((i) => i && !set.has(i));
      if (!live) for (const o of n.outputs) set.add(o);
    }
    this.constantSet = set;
    return set;
  }
}

/** Kahn's algorithm, stable (keeps file order among ready nodes); ONNX requires sorted graphs, but not every exporter complies. */
function topoSort(protos: NodeProto[], available: Set<string>, label: string): GraphNode[] {
  const producedBy = new Map<string, number>();
  protos.forEach((n, i) => (n.output ?? []).forEach((o) => o && producedBy.set(o, i)));
  const waiting = protos.map((n) => new Set((n.input ?? []).filter((x) => x && producedBy.has(x) && !available.has(x))));
  const dependents = new Map<number, number[]>();
  waiting.forEach((deps, i) => deps.forEach((d) => {
    const p = producedBy.get(d)!;
    (dependents.get(p) ?? dependents.set(p, []).get(p)!).push(i);
  }));
  const order: number[] = [];
  const ready = protos.map((_, i) => i).filter((i) => waiting[i].size === 0);
  const done = new Set<number>();
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(i);
    done.add(i);
    for (const d of dependents.get(i) ?? []) {
      for (const o of protos[i].output ?? []) waiting[d].delete(o);
      if (waiting[d].size === 0 && !done.has(d) && !ready.includes(d)) ready.push(d);
    }
  }
  if (order.length !== protos.length) throw new UsageError(`${label}: the ONNX graph has a cycle or reads values no node produces`);
  return order.map((p, index) => {
    const n = protos[p];
    return {
      index,
      name: n.name || `${n.opType}#${index}`,
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      proto: n,
    };
  });
}
