/**
 * Single-node mode: a candidate node cut out into a model of its own (with the
 * Cast/Q/DQ chains in front of its inputs, the Constants it reads and its
 * initializers), fed the reference's values of its inputs. What it then gets
 * wrong is its own error, not error inherited from upstream.
 */
import onnxProto from 'onnx-proto';
import type { GraphNode, GraphView, ModelProto } from './graph-view.ts';
import { TRANSPARENT_OPS } from './match.ts';
import type { ValueInfo } from './session.ts';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const ELEM: Record<string, number> = { float32: T.FLOAT, float16: T.FLOAT16, float64: T.DOUBLE, int64: T.INT64, int32: T.INT32, int8: T.INT8, uint8: T.UINT8, bool: T.BOOL };

export interface NodeExtract {
  node: GraphNode;
  /** Nodes of the small subgraph in topological order (the transparent chains, Constants, then the node). */
  nodes: GraphNode[];
  /** Values the subgraph reads that must be fed (computed at run time in the full model). */
  boundary: string[];
  /** Initializers it reads. */
  initializers: string[];
}

export function extractNode(graph: GraphView, node: GraphNode): NodeExtract {
  const nodes = new Map<number, GraphNode>([[node.index, node]]);
  const boundary = new Set<string>();
  const inits = new Set<string>();
  const visit = (value: string): void => {
    if (!value) return;
    if (graph.initializers.has(value)) return void inits.add(value);
    const p = graph.producer.get(value);
    if (p && (TRANSPARENT_OPS.has(p.opType) || p.opType === 'Constant')) {
      nodes.set(p.index, p);
      p.inputs.forEach(visit);
    } else boundary.add(value);
  };
  node.inputs.forEach(visit);
  return { node, nodes: [...nodes.values()].sort((a, b) => a.index - b.index), boundary: [...boundary], initializers: [...inits] };
}

/** A standalone model of the extract, with typed inputs from the sizing run. */
export function extractModel(graph: GraphView, ex: NodeExtract, values: Map<string, ValueInfo>): Uint8Array {
  const source = graph.model;
  const initializer = (source.graph?.initializer ?? []).filter((t) => ex.initializers.includes(t.name ?? ''));
  const input = ex.boundary.map((name) => {
    const info = values.get(name);
    return { name, type: { tensorType: { elemType: ELEM[info?.dtype ?? 'float32'], shape: { dim: (info?.dims ?? []).map((d) => ({ dimValue: d })) } } } };
  });
  const model: ModelProto = onnx.ModelProto.create({
    irVersion: source.irVersion,
    opsetImport: source.opsetImport,
    graph: {
      name: `single:${ex.node.name}`,
      node: ex.nodes.map((n) => n.proto),
      input,
      initializer,
      output: ex.node.outputs.filter(Boolean).map((name) => ({ name })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
