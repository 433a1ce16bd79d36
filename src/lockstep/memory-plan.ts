/**
 * Whether a comparison can hold both live builds at once. Two different live
 * builds need two copies of the weights; when the memory estimate
 * (docs/memory-estimate.md) of both does not fit in the memory available,
 * `compare` runs sequentially by itself (the reference to a trace first, then
 * the candidate against it) instead of growing until the system kills it.
 */
import { type MemoryEstimate, availableMemory, estimateRunMemory, formatBytes, readModelFootprint } from '../models/memory-estimate.ts';
import { buildKey } from '../pipeline/loaded-models.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { type BuildSpec, buildKind } from './builds.ts';

/**
 * Room on top of the estimate (weights and one component call's activations)
 * for what it does not model: ORT's arena fragments, Node, the comparison's
 * tensors. Measured on the SD 1.5-shaped preset at 512² with the default
 * memory options: generate peaked at 0.94× its estimate, a compare of two live
 * builds at 0.93× the sum of both (docs/benchmarks.md).
 */
export const ESTIMATE_MARGIN = 1.15;

export interface MemoryPlan {
  /** Load one build at a time. */
  sequential: boolean;
  /** Estimated bytes with both builds live (null when at most one build is live). */
  bothLiveBytes: number | null;
  availableBytes: number;
  /** One line for the terminal and the report, or null when nothing was decided. */
  message: string | null;
}

/** `requested`: true (--sequential), false (--no-auto-sequential), or 'auto'. */
export function planMemory(
  reference: BuildSpec,
  candidate: BuildSpec,
  settings: PipelineSettings,
  requested: boolean | 'auto',
  available = availableMemory(),
): MemoryPlan {
  const plan = (sequential: boolean, bothLiveBytes: number | null, message: string | null): MemoryPlan => ({ sequential, bothLiveBytes, availableBytes: available, message });
  if (requested === true) return plan(true, null, null);
  const twoLive = buildKind(reference.path) === 'model' && buildKind(candidate.path) === 'model' && buildKey(reference.path, reference.backend) !== buildKey(candidate.path, candidate.backend);
  if (!twoLive) return plan(false, null, null);
  const need = ESTIMATE_MARGIN * (estimate(reference, settings).total + estimate(candidate, settings).total);
  if (need <= available || requested === false) return plan(false, need, null);
  return plan(
    true,
    need,
    `two live builds need an estimated ${formatBytes(need)} but ${formatBytes(available)} is available: ` +
      'running sequentially (the reference to a trace first, then the candidate against it; one build loaded at a time)',
  );
}

function estimate(spec: BuildSpec, settings: PipelineSettings): MemoryEstimate {
  return estimateRunMemory(readModelFootprint(spec.path), settings);
}
