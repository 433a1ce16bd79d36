/**
 * `fault:groupnorm-eps`: a different GroupNorm epsilon (default 1e-2 instead of
 * 1e-5/1e-6) on the InstanceNormalization of the exported group-norm pattern
 * (Reshape→InstanceNormalization→Reshape). `--layers` narrows it to chosen
 * layers, e.g. one, so a localizer has one known culprit.
 */
import { UsageError } from '../../errors.ts';
import { type NodeProto, attr, floatAttribute, graphOf, producerMap } from './graph-edit.ts';
import { matchLayers } from './layers.ts';
import type { ComponentInput, TouchCount, VariantKind } from './types.ts';

export const DEFAULT_FAULT_EPS = 1e-2;

export function groupNormEpsKind(eps: number, layers?: string): VariantKind {
  if (!(eps > 0) || !Number.isFinite(eps)) throw new UsageError(`--eps: expected a positive number, got ${eps}`);
  return {
    kind: 'fault:groupnorm-eps',
    parameters: { epsilon: eps, layers: layers ?? '*' },
    defaultComponents: ['unet'],
    notes: [],
    apply: (input) => applyGroupNormEps(input, eps, layers),
  };
}

function applyGroupNormEps({ model, component, file }: ComponentInput, eps: number, layers: string | undefined): TouchCount {
  const graph = graphOf(model);
  const producers = producerMap(graph);
  const groupNorms = (graph.node ?? []).filter((n) => n.opType === 'InstanceNormalization' && producers.get(n.input![0])?.opType === 'Reshape');
  if (groupNorms.length === 0) {
    throw new UsageError(`fault:groupnorm-eps does not apply to the ${component} (${file}): no GroupNorm pattern (Reshape→InstanceNormalization)`);
  }
  const chosen = matchLayers(groupNorms, layers, `GroupNorm InstanceNormalization nodes of the ${component}`);
  const before: Record<string, number> = {};
  for (const n of chosen) {
    before[n.name ?? ''] = Number(((attr(n, 'epsilon')?.f as number | undefined) ?? 1e-5).toPrecision(7));
    setEpsilon(n, eps);
  }
  return { weights: 0, nodes: chosen.length, details: { previousEpsilon: before } };
}

function setEpsilon(n: NodeProto, eps: number): void {
  n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== 'epsilon'), floatAttribute('epsilon', eps)];
}
