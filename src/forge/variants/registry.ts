/** Kind names on the command line → their VariantKind. One file per kind, like diffusers' schedulers. */
import { UsageError } from '../../errors.ts';
import { fp16Kind } from './fp16.ts';
import { int8DynamicKind } from './int8-dynamic.ts';
import { int8QdqKind } from './int8-qdq.ts';
import { int8WeightKind } from './int8-weight.ts';
import { pruneKind } from './prune.ts';
import { DEFAULT_FAULT_EPS, groupNormEpsKind } from './fault-groupnorm-eps.ts';
import { softmaxFp16Kind } from './fault-softmax-fp16.ts';
import { timestepFloatKind } from './fault-timestep-float.ts';
import { DEFAULT_OVERFLOW_GAIN, vaeOverflowKind } from './fault-vae-overflow.ts';
import type { VariantKind } from './types.ts';

export interface KindOptions {
  /** Trace folders for int8-qdq calibration. */
  calibrate?: readonly string[];
  /** Node-name pattern for the layer faults (softmax-fp16, groupnorm-eps). */
  layers?: string;
  /** fault:groupnorm-eps epsilon. */
  eps?: number;
  /** fault:vae-fp16-overflow gain. */
  gain?: number;
}

export const KIND_NAMES = [
  'fp16', 'fp16-keep-vae-fp32', 'int8-weight', 'int8-dynamic', 'int8-qdq', 'prune-N',
  'fault:timestep-float', 'fault:softmax-fp16', 'fault:groupnorm-eps', 'fault:vae-fp16-overflow',
] as const;

export function resolveKind(kind: string, o: KindOptions = {}): VariantKind {
  const prune = /^prune-(\d+)$/.exec(kind);
  if (prune) {
    const n = Number(prune[1]);
    if (n < 1 || n > 99) throw new UsageError(`--kind ${kind}: the pruning percentage must be 1..99`);
    return pruneKind(n);
  }
  if (o.layers !== undefined && kind !== 'fault:softmax-fp16' && kind !== 'fault:groupnorm-eps') {
    throw new UsageError(`--layers applies to fault:softmax-fp16 and fault:groupnorm-eps, not to ${kind}`);
  }
  switch (kind) {
    case 'fp16': return fp16Kind(false);
    case 'fp16-keep-vae-fp32': return fp16Kind(true);
    case 'int8-weight': return int8WeightKind();
    case 'int8-dynamic': return int8DynamicKind();
    case 'int8-qdq': return int8QdqKind(o.calibrate ?? []);
    case 'fault:timestep-float': return timestepFloatKind();
    case 'fault:softmax-fp16': return softmaxFp16Kind(o.layers);
    case 'fault:groupnorm-eps': return groupNormEpsKind(o.eps ?? DEFAULT_FAULT_EPS, o.layers);
    case 'fault:vae-fp16-overflow': return vaeOverflowKind(o.gain ?? DEFAULT_OVERFLOW_GAIN);
    default: throw new UsageError(`--kind: unknown variant kind '${kind}' (expected one of ${KIND_NAMES.join(', ')})`);
  }
}
