/** `fault:softmax-fp16`: attention Softmax computed in float16 (Cast→Softmax→Cast), as a port with an fp16-only softmax unit does. */
import { UsageError } from '../../errors.ts';
import { DT, Namer, type NodeProto, graphOf, inferElemTypes, intAttribute, node } from './graph-edit.ts';
import { matchLayers } from './layers.ts';
import type { ComponentInput, TouchCount, VariantKind } from './types.ts';

export function softmaxFp16Kind(layers?: string): VariantKind {
  return {
    kind: 'fault:softmax-fp16',
    parameters: { layers: layers ?? '*' },
    defaultComponents: ['unet'],
    notes: ['On the CPU provider ORT computes an fp16 Softmax in fp32 and rounds the result, so only the rounding of input and output to fp16 shows.'],
    apply: (input) => applySoftmaxFp16(input, layers),
  };
}

function applySoftmaxFp16({ model, component, file }: ComponentInput, layers: string | undefined): TouchCount {
  const graph = graphOf(model);
  const types = inferElemTypes(graph);
  const all = (graph.node ?? []).filter((n) => n.opType === 'Softmax' && types.get(n.input![0]) === DT.FLOAT);
  if (all.length === 0) throw new UsageError(`fault:softmax-fp16 does not apply to the ${component} (${file}): the graph has no float32 Softmax`);
  const chosen = new Set(matchLayers(all, layers, `Softmax nodes of the ${component}`));
  const namer = new Namer(graph, 'fault_softmax_fp16');
  graph.node = (graph.node ?? []).flatMap((n): NodeProto[] => {
    if (!chosen.has(n)) return [n];
    const [x16, y16] = [namer.name(`${n.name}/input_fp16`), namer.name(`${n.name}/output_fp16`)];
    const y = n.output![0];
    const softmax = { ...n, input: [x16], output: [y16] };
    return [
      node('Cast', namer.name(`${n.name}/CastIn`), [n.input![0]], [x16], [intAttribute('to', DT.FLOAT16)]),
      softmax,
      node('Cast', namer.name(`${n.name}/CastOut`), [y16], [y], [intAttribute('to', DT.FLOAT)]),
    ];
  });
  return { weights: 0, nodes: chosen.size * 3, details: { layers: [...chosen].map((n) => n.name) } };
}
