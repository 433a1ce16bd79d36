/** `prune-N`: unstructured magnitude pruning — per layer, the N% smallest |w| of each Conv/MatMul/Gemm weight become 0. */
import { UsageError } from '../../errors.ts';
import { DT, graphOf, readFloat32, setData } from './graph-edit.ts';
import { ALL_COMPONENTS, type ComponentInput, type TouchCount, type VariantKind } from './types.ts';
import { weightSites } from './weight-quant.ts';

export function pruneKind(percent: number): VariantKind {
  return {
    kind: `prune-${percent}`,
    parameters: { percent, scope: 'per layer (each weight tensor separately)', ops: ['Conv', 'MatMul', 'Gemm'] },
    defaultComponents: ALL_COMPONENTS,
    notes: [],
    apply: (input) => applyPrune(input, percent),
  };
}

function applyPrune({ model, component, file }: ComponentInput, percent: number): TouchCount {
  const sites = weightSites(graphOf(model));
  if (sites.length === 0) throw new UsageError(`prune-${percent} does not apply to the ${component} (${file}): no Conv/MatMul/Gemm with a float32 weight initializer`);
  const weights = new Set(sites.map((s) => s.weight));
  let zeroed = 0;
  for (const w of weights) {
    const data = readFloat32(w);
    zeroed += zeroSmallest(data, Math.floor((data.length * percent) / 100));
    setData(w, DT.FLOAT, data);
  }
  return { weights: weights.size, nodes: sites.length, details: { zeroedValues: zeroed } };
}

/** Zeroes the `k` entries of smallest magnitude (ties at the threshold broken by index, so the result is deterministic). */
export function zeroSmallest(data: Float32Array, k: number): number {
  if (k <= 0) return 0;
  const threshold = Float32Array.from(data, Math.abs).sort()[k - 1];
  let below = 0;
  for (const v of data) if (Math.abs(v) < threshold) below++;
  let tiesLeft = k - below;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    if (a < threshold || (a === threshold && tiesLeft-- > 0)) data[i] = 0;
  }
  return k;
}
