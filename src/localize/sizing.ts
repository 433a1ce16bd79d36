/**
 * dtype and shape of every computed value, needed to plan batches and to type
 * the inputs of single-node models. The ORT profile covers most values; the
 * rest (nodes ORT rewrote at load, e.g. fp16 ops wrapped in its own Casts, or
 * Casts it removed) are captured in extra bounded batches.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { BackendOptions } from '../models/backend.ts';
import { type Capturer, planBatches } from './capture.ts';
import type { GraphView } from './graph-view.ts';
import { profileValues, type ValueInfo } from './session.ts';

export interface Sizing {
  values: Map<string, ValueInfo>;
  /** ORT runs spent: the profiled run plus one per batch of missing values. */
  runs: number;
}

export async function sizeValues(graph: GraphView, feeds: Record<string, Tensor>, backend: BackendOptions, capturer: Capturer, budgetBytes: number): Promise<Sizing> {
  const values = await profileValues(graph.model, feeds, backend, graph.label);
  const missing = graph.nodes
    .filter((n) => n.opType !== 'Constant')
    .flatMap((n) => n.outputs.filter((o) => o && !values.has(o) && !graph.isConstant(o)));
  const largest = Math.max(0, ...[...values.values()].map((v) => v.bytes));
  const estimate = new Map(missing.map((v) => [v, estimateBytes(graph, values, v) ?? largest]));
  const items = missing.map((v) => ({ item: v, reference: [v], candidate: [] }));
  let runs = 1;
  for (const batch of planBatches(items, (_, v) => estimate.get(v) ?? largest, budgetBytes)) {
    for (const [name, t] of await captureSkippingRejected(capturer, batch.map((b) => b.item), () => runs++)) {
      values.set(name, { dtype: t.dtype, dims: [...t.dims], bytes: t.data.byteLength });
    }
  }
  capturer.runs -= runs - 1; // sizing runs are counted apart from comparison runs
  return { values, runs };
}

/**
 * ORT refuses to expose some values it rewrote at load (e.g. a Cast next to an
 * fp16 op that its own inserted Casts replaced: "Type (tensor(float)) of output
 * arg (InsertedPrecisionFreeCast_…) … does not match"). Such a batch is retried
 * value by value and the refused values are left unsized, hence uncompared.
 */
async function captureSkippingRejected(capturer: Capturer, names: string[], countRun: () => void): Promise<Map<string, Tensor>> {
  try {
    countRun();
    return await capturer.capture(names);
  } catch (err) {
    if (names.length === 1) return new Map();
    const out = new Map<string, Tensor>();
    for (const n of names) for (const [k, v] of await captureSkippingRejected(capturer, [n], countRun)) out.set(k, v);
    return out;
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
