/**
 * The addressable threshold slots: every (scope, tensor, metric) a bound can
 * be set for, and which way each metric must point to pass.
 */
import {
  COMPONENT_CHECKS,
  FREE_RUNNING_TENSORS,
  IMAGE_METRICS,
  TEACHER_FORCED_TENSORS,
  TENSOR_METRICS,
  TENSOR_PARAMETERS,
  type GateOp,
  type Thresholds,
} from '../report/schema.ts';

export type ThresholdScope = keyof Thresholds;

export interface Slot {
  scope: ThresholdScope;
  tensor: string;
  metric: string;
}

/** Larger is better for these; every other metric is an error that must stay small. */
const HIGHER_IS_BETTER = new Set(['cosine', 'sqnr', 'psnr', 'ssim']);

export function opFor(metric: string): GateOp {
  return HIGHER_IS_BETTER.has(metric) ? '>=' : '<=';
}

/** Tensor names per scope, in execution order. */
export const SCOPE_TENSORS: Record<ThresholdScope, readonly string[]> = {
  components: COMPONENT_CHECKS,
  teacherForced: TEACHER_FORCED_TENSORS,
  freeRunning: FREE_RUNNING_TENSORS,
  final: ['latents', 'decoded', 'image'],
};

/** The gated metrics of a tensor. */
export function metricsFor(tensor: string): readonly string[] {
  return tensor === 'image' ? IMAGE_METRICS : TENSOR_METRICS;
}

/** Settings addressed like thresholds but never gated (the allclose tolerances). */
export function parametersFor(tensor: string): readonly string[] {
  return tensor === 'image' ? [] : TENSOR_PARAMETERS;
}

const PARAMETERS = new Set<string>(TENSOR_PARAMETERS);
export function isParameter(metric: string): boolean {
  return PARAMETERS.has(metric);
}

export function allSlots(): Slot[] {
  const slots: Slot[] = [];
  for (const scope of Object.keys(SCOPE_TENSORS) as ThresholdScope[]) {
    for (const tensor of SCOPE_TENSORS[scope]) {
      for (const metric of [...metricsFor(tensor), ...parametersFor(tensor)]) slots.push({ scope, tensor, metric });
    }
  }
  return slots;
}

/** A key's parts, with a two-part metric ("allclose.fraction") kept as one. */
export function keyParts(key: string): string[] {
  const parts = key.split('.');
  if (parts.length >= 2 && parts[parts.length - 2] === 'allclose') parts.splice(parts.length - 2, 2, parts.slice(-2).join('.'));
  return parts;
}

export function slotKey(s: Slot): string {
  return `${s.scope}.${s.tensor}.${s.metric}`;
}

/** Reads one bound (undefined/null = not gated). */
export function getBound(t: Thresholds, s: Slot): number | null {
  const group = t[s.scope] as Record<string, Record<string, number | null | undefined>>;
  return group[s.tensor]?.[s.metric] ?? null;
}

/** Sets one bound in place. */
export function setBound(t: Thresholds, s: Slot, value: number | null): void {
  const group = t[s.scope] as Record<string, Record<string, number | null | undefined>>;
  group[s.tensor] = { ...group[s.tensor], [s.metric]: value };
}
