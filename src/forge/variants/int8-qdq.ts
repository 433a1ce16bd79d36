/**
 * `int8-qdq`: static quantization in the QDQ format — QuantizeLinear →
 * DequantizeLinear (uint8, per tensor, asymmetric) on every activation input
 * of Conv/MatMul/Gemm, with ranges calibrated from recorded traces, plus
 * per-channel int8 weights as in `int8-weight`.
 */
import { UsageError } from '../../errors.ts';
import {
  DT, Namer, type GraphProto, type NodeProto, graphOf, initializerMap, makeInitializer, node, producerMap, spliceNodes, weightBehind, WEIGHT_OPS,
} from './graph-edit.ts';
import { calibrateRanges, type Range } from './calibrate.ts';
import { ALL_COMPONENTS, type ComponentInput, type TouchCount, type VariantKind } from './types.ts';
import { dequantizeWeightsInPlace, requireOpset13, roundHalfEven, weightSites } from './weight-quant.ts';

export function int8QdqKind(traces: readonly string[]): VariantKind {
  if (traces.length === 0) {
    throw new UsageError('int8-qdq needs activation ranges: pass --calibrate TRACE_DIR (record one with `lockstep generate --trace DIR` on the source model)');
  }
  return {
    kind: 'int8-qdq',
    parameters: {
      activations: 'uint8 per tensor, asymmetric, min/max calibration',
      weights: 'int8 symmetric per output channel',
      ops: ['Conv', 'MatMul', 'Gemm'],
      calibrationTraces: traces.length,
    },
    defaultComponents: ALL_COMPONENTS,
    notes: ['With graph optimization level extended/all ORT fuses QDQ MatMul into MatMulIntegerToFloat, which is not bit-exact on every CPU (ENV-NOTES).'],
    apply: (input) => applyQdq(input, traces),
  };
}

async function applyQdq(input: ComponentInput, traces: readonly string[]): Promise<TouchCount> {
  const { model, component, file } = input;
  requireOpset13(model, 'int8-qdq', file);
  const graph = graphOf(model);
  const activations = activationInputs(graph);
  if (activations.length === 0) throw new UsageError(`int8-qdq does not apply to the ${component} (${file}): no Conv/MatMul/Gemm`);
  const ranges = await calibrateRanges(model, component, input.modelDir, traces, activations);
  const weights = dequantizeWeightsInPlace(model, weightSites(graph));
  const inserted = insertQdq(graph, activations, ranges);
  return { weights: weights.weights + inserted * 2, nodes: weights.nodes + inserted * 2, details: { quantizedActivations: inserted } };
}

/** Non-constant inputs of Conv/Gemm (data) and MatMul (either side), in graph order. */
function activationInputs(graph: GraphProto): string[] {
  const inits = initializerMap(graph);
  const producers = producerMap(graph);
  const isConstant = (x: string) => weightBehind(x, inits, producers) !== undefined || producers.get(x)?.opType === 'Constant';
  const names = new Set<string>();
  for (const n of graph.node ?? []) {
    if (!WEIGHT_OPS.has(n.opType ?? '')) continue;
    const slots = n.opType === 'MatMul' ? [0, 1] : [0];
    for (const k of slots) if (n.input?.[k] && !isConstant(n.input[k])) names.add(n.input[k]);
  }
  return [...names];
}

/** uint8 asymmetric parameters covering [min, max] ∪ {0}, as onnxruntime's MinMax calibrator computes them. */
export function uint8Params(r: Range): { scale: number; zeroPoint: number } {
  const min = Math.min(r.min, 0);
  const max = Math.max(r.max, 0);
  const scale = max > min ? (max - min) / 255 : 1;
  return { scale, zeroPoint: Math.max(0, Math.min(255, roundHalfEven(-min / scale))) };
}

/** One Q→DQ pair per activation, placed before its first consumer; every weight-op consumer reads the DQ output. */
function insertQdq(graph: GraphProto, activations: readonly string[], ranges: Map<string, Range>): number {
  const namer = new Namer(graph, 'qdq');
  const before = new Map<NodeProto, NodeProto[]>();
  const replaced = new Map<string, string>();
  for (const x of activations) {
    const range = ranges.get(x);
    if (!range || !(range.max >= range.min)) continue; // never computed during calibration
    const { scale, zeroPoint } = uint8Params(range);
    const [s, zp, q, dq] = ['scale', 'zero_point', 'quantized', 'dequantized'].map((k) => namer.name(`${x}_${k}`));
    graph.initializer!.push(makeInitializer(s, DT.FLOAT, [], Float32Array.of(scale)), makeInitializer(zp, DT.UINT8, [], Uint8Array.of(zeroPoint)));
    const first = (graph.node ?? []).find((n) => WEIGHT_OPS.has(n.opType ?? '') && n.input?.includes(x))!;
    before.set(first, [...(before.get(first) ?? []), node('QuantizeLinear', namer.name(`${x}_QuantizeLinear`), [x, s, zp], [q]), node('DequantizeLinear', namer.name(`${x}_DequantizeLinear`), [q, s, zp], [dq])]);
    replaced.set(x, dq);
  }
  for (const n of graph.node ?? []) {
    if (!WEIGHT_OPS.has(n.opType ?? '')) continue;
    const slots = n.opType === 'MatMul' ? [0, 1] : [0];
    n.input = (n.input ?? []).map((x, k) => (slots.includes(k) ? (replaced.get(x) ?? x) : x));
  }
  spliceNodes(graph, [], before);
  return replaced.size;
}
