/** `int8-weight`: weight-only int8 — per-output-channel DequantizeLinear on Conv/MatMul/Gemm weights; activations stay float32. */
import { UsageError } from '../../errors.ts';
import { graphOf } from './graph-edit.ts';
import { ALL_COMPONENTS, type ComponentInput, type TouchCount, type VariantKind } from './types.ts';
import { dequantizeWeightsInPlace, requireOpset13, weightSites } from './weight-quant.ts';

export function int8WeightKind(): VariantKind {
  return {
    kind: 'int8-weight',
    parameters: { weights: 'int8 symmetric, per output channel, zero point 0', ops: ['Conv', 'MatMul', 'Gemm'] },
    defaultComponents: ALL_COMPONENTS,
    notes: [],
    apply: applyInt8Weight,
  };
}

export function applyInt8Weight({ model, component, file }: ComponentInput): TouchCount {
  requireOpset13(model, 'int8-weight', file);
  const sites = weightSites(graphOf(model));
  if (sites.length === 0) throw new UsageError(`int8-weight does not apply to the ${component} (${file}): no Conv/MatMul/Gemm with a float32 weight initializer`);
  const counts = dequantizeWeightsInPlace(model, sites);
  return { weights: counts.weights, nodes: counts.nodes };
}
