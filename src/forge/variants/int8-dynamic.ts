/**
 * `int8-dynamic`: dynamic activation quantization of MatMul, without contrib
 * ops — the activation goes through DynamicQuantizeLinear (uint8, per tensor,
 * range computed at run time), the weight is int8 per column, MatMulInteger
 * gives int32, and one Mul by (activation scale × column scales) brings it back.
 */
import { UsageError } from '../../errors.ts';
import {
  DT, Namer, type NodeProto, graphOf, intAttribute, makeInitializer, node, readFloat32, dimsOf,
} from './graph-edit.ts';
import { ALL_COMPONENTS, type ComponentInput, type TouchCount, type VariantKind } from './types.ts';
import { quantizePerChannel, requireOpset13, weightSites } from './weight-quant.ts';

export function int8DynamicKind(): VariantKind {
  return {
    kind: 'int8-dynamic',
    parameters: { activations: 'uint8 per tensor, DynamicQuantizeLinear', weights: 'int8 symmetric per column', ops: ['MatMul'] },
    defaultComponents: ALL_COMPONENTS,
    notes: [],
    apply: applyInt8Dynamic,
  };
}

function applyInt8Dynamic({ model, component, file }: ComponentInput): TouchCount {
  requireOpset13(model, 'int8-dynamic', file);
  const graph = graphOf(model);
  const sites = weightSites(graph, new Set(['MatMul']));
  if (sites.length === 0) throw new UsageError(`int8-dynamic does not apply to the ${component} (${file}): no MatMul with a float32 weight initializer`);
  const namer = new Namer(graph, 'int8_dynamic');
  const replacements = new Map<NodeProto, NodeProto[]>();
  const quantized = new Map<string, string[]>(); // weight name → [q, scale]
  for (const { op, weight, axis } of sites) {
    const wName = weight.name ?? '';
    if (!quantized.has(wName)) {
      const qw = quantizePerChannel(readFloat32(weight), dimsOf(weight), axis);
      const names = [namer.name(`${wName}_quantized`), namer.name(`${wName}_scale`)];
      graph.initializer!.push(makeInitializer(names[0], DT.INT8, qw.dims, qw.q), makeInitializer(names[1], DT.FLOAT, [qw.scales.length], qw.scales));
      quantized.set(wName, names);
    }
    const [wq, wScale] = quantized.get(wName)!;
    const base = op.name || op.output![0];
    const [aq, aScale, aZero, acc, accF, scale] = ['a_q', 'a_scale', 'a_zero_point', 'int32', 'float', 'scale'].map((s) => namer.name(`${base}/${s}`));
    replacements.set(op, [
      node('DynamicQuantizeLinear', namer.name(`${base}/DynamicQuantizeLinear`), [op.input![0]], [aq, aScale, aZero]),
      node('MatMulInteger', namer.name(`${base}/MatMulInteger`), [aq, wq, aZero], [acc]),
      node('Cast', namer.name(`${base}/Cast`), [acc], [accF], [intAttribute('to', DT.FLOAT)]),
      node('Mul', namer.name(`${base}/ScaleProduct`), [aScale, wScale], [scale]),
      node('Mul', namer.name(`${base}/Rescale`), [accF, scale], [op.output![0]]),
    ]);
  }
  graph.node = (graph.node ?? []).flatMap((n) => replacements.get(n) ?? [n]);
  // Float weights no longer used by any node are dropped.
  const used = new Set((graph.node ?? []).flatMap((n) => n.input ?? []));
  graph.initializer = graph.initializer!.filter((t) => used.has(t.name ?? ''));
  return { weights: quantized.size, nodes: replacements.size };
}
