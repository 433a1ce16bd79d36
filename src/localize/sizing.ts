/**
 * dtype and shape of every computed value, needed to plan batches and to type
 * the inputs of single-node models. The ORT profile covers most values; the
 * rest (nodes ORT rewrote at load, e.g. fp16 ops wrapped in its own Casts, or
 * Casts it removed) are captured in extra bounded batches.
 */
import onnxProto from 'onnx-proto';
import { inferElemTypes } from '../forge/variants/graph-edit.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { BackendOptions } from '../models/backend.ts';
import { type Capturer, planBatches } from './capture.ts';
import type { GraphView } from './graph-view.ts';
import { profileValues, type ValueInfo } from './session.ts';

const FLOAT16 = onnxProto.onnx.TensorProto.DataType.FLOAT16;

export interface Sizing {
  values: Map<string, ValueInfo>;
  /** ORT runs spent: the profiled run plus one per batch of missing values. */
  runs: number;
}

export async function sizeValues(graph: GraphView, feeds: Record<string, Tensor>, backend: BackendOptions, capturer: Capturer, budgetBytes: number): Promise<Sizing> {
  const values = await profileValues(graph.model, feeds, backend, graph.label);
  declaredFloat16(graph, values);
  const missing = graph.nodes
    .filter((n) => n.opType !== 'Constant')
    .flatMap((n) => n.outputs.filter((o) => o && !values.has(o) && !graph.isConstant(o)));
  const largest = Math.max(0, ...[...values.values()].map((v) => v.bytes));
  const estimate = new Map(missing.map((v) => [v, estimateBytes(graph, values, v) ?? largest]));
  const items = missing.map((v) => ({ item: v, reference: [v], candidate: [] }));
  const before = { runs: capturer.runs, rejected: capturer.rejected };
  for (const batch of planBatches(items, (_, v) => estimate.get(v) ?? largest, budgetBytes)) {
    // Values ORT refuses to expose (it rewrote them at load, e.g. a Cast next to
    // an fp16 op that its own inserted Casts replaced) are dropped by the
    // capturer and stay unsized, hence uncompared; the report lists them.
    for (const [name, t] of await capturer.capture(batch.map((b) => b.item))) {
      values.set(name, { dtype: t.dtype, dims: [...t.dims], bytes: t.data.byteLength });
    }
  }
  const runs = 1 + (capturer.runs - before.runs) + (capturer.rejected - before.rejected);
  // Sizing runs are counted apart from comparison runs.
  capturer.runs = before.runs;
  capturer.rejected = before.rejected;
  return { values, runs };
}

/**
 * ORT's CPU provider lacks fp16 kernels for most ops: it runs such a node in
 * float32 between Casts it inserts, and the profile then reports the node's
 * output as float32 although the model's value is float16 (the inserted Cast
 * takes the value's name). Where the model's own types say float16, trust them
 * (halving the bytes): single mode declares and casts the node inputs it feeds
 * with these dtypes.
 */
function declaredFloat16(graph: GraphView, values: Map<string, ValueInfo>): void {
  const declared = inferElemTypes(graph.model.graph!);
  for (const [name, info] of values) {
    if (info.dtype === 'float32' && declared.get(name) === FLOAT16) values.set(name, { ...info, dtype: 'float16', bytes: info.bytes / 2 });
  }
}

/** A value the profile missed is usually its producer's input in another precision: take the largest known input, in float32. */
function estimateBytes(graph: GraphView, values: Map<string, ValueInfo>, value: string): number | undefined {
  const node = graph.producer.get(value);
  const known = (node?.inputs ?? []).map((i) => values.get(i)).filter((v): v is ValueInfo => !!v);
  if (known.length === 0) return undefined;
  return Math.max(...known.map((v) => (v.bytes / Math.max(1, bytesPerElement(v.dtype))) * 4));
}

function bytesPerElement(dtype: string): number {
  return { float64: 8, int64: 8, float32: 4, int32: 4, float16: 2 }[dtype] ?? 1;
}
